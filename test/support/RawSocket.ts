/**
 * A bare `ws` client for protocol tests: sends raw text and hands back each
 * server frame as parsed JSON, and the close code, so tests can check the
 * protocol byte for byte without the client library's help.
 *
 * The server's heartbeat `ping` frames are left out unless `pings` is set:
 * they come on a timer, and a test that reads "the next frame" or "nothing
 * more" means the next notification, whenever the socket's first ping
 * happens to fall (one interval to one and a half after it opened).
 */
import { Deferred, Duration, Effect, Queue, type Scope } from "effect"
import WebSocket from "ws"

export interface ServerFrame {
  readonly type: string
  readonly [key: string]: unknown
}

export interface RawSocket {
  readonly send: (text: string) => Effect.Effect<void>
  readonly sendJson: (frame: object) => Effect.Effect<void>
  /** The next frame from the server; fails the test after `timeout`. */
  readonly next: (timeout?: Duration.Input) => Effect.Effect<ServerFrame>
  /** Frames until (and including) the first of the given type. */
  readonly until: (type: string, timeout?: Duration.Input) => Effect.Effect<ReadonlyArray<ServerFrame>>
  /** The close code once the socket is closed. */
  readonly closed: (timeout?: Duration.Input) => Effect.Effect<number>
  readonly close: (code?: number) => Effect.Effect<void>
  /** Drops the TCP connection without a close frame (a dead peer). */
  readonly terminate: Effect.Effect<void>
  readonly ws: WebSocket
}

export const openRaw = (url: string, options: { readonly pings?: boolean } = {}): Effect.Effect<RawSocket, never, Scope.Scope> =>
  Effect.gen(function*() {
    const frames = yield* Queue.unbounded<ServerFrame>()
    const closed = yield* Deferred.make<number>()
    const ws = yield* Effect.acquireRelease(
      Effect.callback<WebSocket>((resume) => {
        const ws = new WebSocket(url)
        ws.on("open", () => resume(Effect.succeed(ws)))
        ws.on("error", (error) => resume(Effect.die(error)))
      }),
      (ws) => Effect.sync(() => ws.terminate())
    )
    ws.on("message", (data) => {
      const frame: ServerFrame = JSON.parse(data.toString())
      if (frame.type !== "ping" || options.pings === true) Queue.offerUnsafe(frames, frame)
    })
    ws.on("close", (code) => {
      Deferred.doneUnsafe(closed, Effect.succeed(code))
    })
    const next = (timeout: Duration.Input = "5 seconds") =>
      Queue.take(frames).pipe(
        Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.die(new Error("no frame from the server in time")) })
      )
    return {
      ws,
      send: (text) => Effect.sync(() => ws.send(text)),
      sendJson: (frame) => Effect.sync(() => ws.send(JSON.stringify(frame))),
      next,
      until: (type, timeout) =>
        Effect.gen(function*() {
          const seen: Array<ServerFrame> = []
          while (true) {
            const frame = yield* next(timeout)
            seen.push(frame)
            if (frame.type === type) return seen
          }
        }),
      closed: (timeout: Duration.Input = "5 seconds") =>
        Deferred.await(closed).pipe(
          Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.die(new Error("the socket did not close in time")) })
        ),
      close: (code = 1000) => Effect.sync(() => ws.close(code)),
      terminate: Effect.sync(() => ws.terminate())
    }
  })

/** A notification frame's title, or the frame's type for any other frame. */
export const titleOf = (frame: ServerFrame): string => {
  const notification = frame["notification"]
  return typeof notification === "object" && notification !== null && "title" in notification ? String(notification.title) : frame.type
}
