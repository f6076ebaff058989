/**
 * A bare `ws` client for fuzzing the socket protocol: it sends any text or
 * binary message and keeps every server message exactly as it arrived
 * (text, or bytes flagged binary), so a test can decode them with the
 * domain's schemas instead of trusting `JSON.parse`. Unlike `RawSocket`, a
 * server message that is not JSON does not throw inside the socket's
 * callback: it is kept, and the test says it is not a documented frame.
 */
import { Deferred, Duration, Effect, Queue, type Scope } from "effect"
import WebSocket from "ws"

export interface ReceivedMessage {
  readonly text: string
  readonly binary: boolean
}

export interface TextSocket {
  readonly sendText: (text: string) => Effect.Effect<void>
  readonly sendBinary: (bytes: Uint8Array) => Effect.Effect<void>
  /** Every message received so far, in order. */
  readonly received: () => ReadonlyArray<ReceivedMessage>
  /** Resolves once `done` holds of the messages so far or the socket closed; dies after `timeout`. */
  readonly waitFor: (done: (received: ReadonlyArray<ReceivedMessage>) => boolean, timeout?: Duration.Input) => Effect.Effect<void>
  /** The close code, once closed; dies after `timeout`. */
  readonly closed: (timeout?: Duration.Input) => Effect.Effect<number>
  /** The close code if the socket is closed now. */
  readonly closeCode: () => number | undefined
  /** Starts an orderly close from the client's side. */
  readonly close: (code?: number) => Effect.Effect<void>
}

/** Opens a socket to `url`; it is terminated when the scope closes. */
export const openText = (url: string): Effect.Effect<TextSocket, never, Scope.Scope> =>
  Effect.gen(function*() {
    const received: Array<ReceivedMessage> = []
    // Woken on every message and on close, so waiters re-check without polling.
    const wake = yield* Queue.sliding<void>(1)
    const closed = yield* Deferred.make<number>()
    let closeCode: number | undefined
    const ws = yield* Effect.acquireRelease(
      Effect.callback<WebSocket>((resume) => {
        const ws = new WebSocket(url)
        ws.on("open", () => resume(Effect.succeed(ws)))
        ws.on("error", (error) => resume(Effect.die(error)))
      }),
      (ws) => Effect.sync(() => ws.terminate())
    )
    // After the open, an error (a reset connection) is followed by `close`, which is what tests read.
    ws.on("error", () => undefined)
    ws.on("message", (data, binary) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString()
        : Buffer.isBuffer(data)
        ? data.toString()
        : Buffer.from(data).toString()
      received.push({ text, binary })
      Queue.offerUnsafe(wake, undefined)
    })
    ws.on("close", (code) => {
      closeCode = code
      Deferred.doneUnsafe(closed, Effect.succeed(code))
      Queue.offerUnsafe(wake, undefined)
    })
    const waitFor = (done: (received: ReadonlyArray<ReceivedMessage>) => boolean, timeout: Duration.Input = "5 seconds") =>
      Effect.gen(function*() {
        while (!done(received) && closeCode === undefined) yield* Queue.take(wake)
      }).pipe(
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.die(new Error(`the server did not answer in time; received so far: ${JSON.stringify(received)}`))
        })
      )
    return {
      // ws reports a send on a closing socket through the callback; the close code is what tests read.
      sendText: (text) =>
        Effect.sync(() => {
          if (ws.readyState === ws.OPEN) ws.send(text, () => undefined)
        }),
      sendBinary: (bytes) =>
        Effect.sync(() => {
          if (ws.readyState === ws.OPEN) ws.send(bytes, { binary: true }, () => undefined)
        }),
      received: () => received,
      waitFor,
      closed: (timeout: Duration.Input = "5 seconds") =>
        Deferred.await(closed).pipe(
          Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.die(new Error("the socket did not close in time")) })
        ),
      closeCode: () => closeCode,
      close: (code = 1000) =>
        Effect.sync(() => {
          if (ws.readyState === ws.OPEN) ws.close(code)
        })
    }
  })
