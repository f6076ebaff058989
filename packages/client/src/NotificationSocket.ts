/**
 * A live, resumable feed of one user's notifications over Herald's socket
 * protocol (`docs/protocol.md`), for Node 24 and browsers: it dials with the
 * global `WebSocket`.
 *
 * Use it to show notifications as they happen; load history with the
 * `ListInbox` RPC. It reconnects by itself (jittered exponential backoff),
 * resumes from the highest cursor it has received, and never emits the same
 * notification id twice.
 *
 * Gotchas:
 * - `notifications` has a single consumer: run it once. Notifications that
 *   arrive before it runs are buffered, not lost.
 * - Acks are sent as the stream emits, so an ack means "handed to the app",
 *   not merely "arrived on the socket".
 * - A fixed string token cannot be renewed: on 4401/4402 the stream fails with
 *   `SocketAuthError`. Pass an `Effect<string>` that fetches a token to survive
 *   expiry.
 */
import { Cursor, type Notification, Socket } from "@herald/domain"
import { Cause, Effect, Exit, Fiber, Option, Queue, Random, Schema, type Scope, Stream, SubscriptionRef } from "effect"
import { Socket as Transport } from "effect/socket"
import { makeRecentIds } from "./internal/RecentIds.ts"
import { SocketAuthError, type SocketFatalError, SocketOptionsError } from "./SocketErrors.ts"

/** Where the socket is: dialling for the first time, authenticated, waiting to redial, or finished for good. */
export type SocketState = "connecting" | "open" | "reconnecting" | "closed"

/** What `NotificationSocket.make` needs; only `url` and `token` are required. */
export interface NotificationSocketOptions {
  /**
   * The socket endpoint, `ws://host:port/ws` or `wss://…`, or several nodes' endpoints: after a
   * connection ends, the next one dials the next endpoint in turn, so a client of a node that
   * died resumes on another. Never put the token in it.
   */
  readonly url: string | readonly [string, ...Array<string>]
  /**
   * A client token, or an effect that fetches a fresh one; the effect runs before every (re)connect,
   * and when it fails (the app's backend is down, say) the socket backs off and tries again.
   */
  readonly token: string | Effect.Effect<string, unknown>
  /** The last cursor the app has already shown; the server replays everything after it. */
  readonly resumeFrom?: Cursor | undefined
  /** Send cumulative acks as notifications are emitted (default `true`). */
  readonly ack?: boolean | undefined
  /**
   * Reconnect delays: each is random between half and all of `min(maxMs, initialMs·2^attempt)`.
   * After the server went away (1001: a restart or deploy) or the connection dropped (1006), when
   * every client of that node reconnects at once, the delays until the next open are instead uniform
   * in `[0, max(spreadMs, that cap)]` (spreadMs default 3,000), so a node's clients come back spread
   * over seconds rather than all within a quarter of one, even when the node takes longer than that
   * to return. After a limit (4429) no delay is shorter than the server asked for.
   */
  readonly backoff?: {
    readonly initialMs?: number | undefined
    readonly maxMs?: number | undefined
    readonly spreadMs?: number | undefined
  } | undefined
  /** Called with the initial state, then on every change; keep it quick, it runs on the socket's fiber. */
  readonly onState?: ((state: SocketState) => void) | undefined
}

/** A connected notification socket; see the module comment for its guarantees. */
export interface NotificationSocket {
  /** The user's notifications in cursor order, without duplicates; ends on `close` or a 1000 close from the server. */
  readonly notifications: Stream.Stream<Notification, SocketFatalError>
  /** The current state. */
  readonly state: Effect.Effect<SocketState>
  /** The current state, then every change, ending after `"closed"`. */
  readonly stateChanges: Stream.Stream<SocketState>
  /** The highest cursor received so far (what a reconnect resumes from). */
  readonly lastCursor: Effect.Effect<Option.Option<Cursor>>
  /** Closes the socket (code 1000) and ends `notifications`; safe to call twice. */
  readonly close: Effect.Effect<void>
}

const PositiveMs = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))

// The CLI passes user input straight through, so the plain-data options are decoded, not trusted.
const SocketUrl = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^wss?:\/\/[^\s/?#]+[^\s]*$/, { message: "Expected a ws:// or wss:// URL" }))
)

const Settings = Schema.Struct({
  url: Schema.Union([SocketUrl, Schema.NonEmptyArray(SocketUrl)]),
  token: Schema.optional(Socket.AuthFrame.fields.token),
  resumeFrom: Schema.optional(Cursor),
  ack: Schema.optional(Schema.Boolean),
  backoff: Schema.optional(Schema.Struct({
    initialMs: Schema.optional(PositiveMs),
    maxMs: Schema.optional(PositiveMs),
    spreadMs: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))))
  }))
})

const defaultHeartbeatMs = 15_000
const ackDelayMs = 50
const rememberedIds = 10_000

const decodeFrame = Schema.decodeUnknownExit(Socket.ServerFrameJson)
const encodeFrame = Schema.encodeEffect(Socket.ClientFrameJson)
const decodeAuth = Schema.decodeUnknownEffect(Socket.AuthFrame)

// Local failures are expressed as close codes so that one classification decides what happens next.
const closedWith = (code: number, closeReason: string) =>
  new Transport.SocketError({ reason: new Transport.SocketCloseError({ code, closeReason }) })

const closeCodeOf = (error: Transport.SocketError): number =>
  error.reason._tag === "SocketCloseError" ? error.reason.code : 1006

const make = Effect.fn("NotificationSocket.make")(function*(
  options: NotificationSocketOptions
): Effect.fn.Return<NotificationSocket, SocketOptionsError, Scope.Scope> {
  const settings = yield* Schema.decodeUnknownEffect(Settings)({
    url: options.url,
    token: typeof options.token === "string" ? options.token : undefined,
    resumeFrom: options.resumeFrom,
    ack: options.ack,
    backoff: options.backoff
  }).pipe(Effect.mapError((error) => new SocketOptionsError({ message: error.message })))
  const initialMs = settings.backoff?.initialMs ?? 250
  const maxMs = settings.backoff?.maxMs ?? 30_000
  const spreadMs = settings.backoff?.spreadMs ?? 3_000
  const token = options.token
  const renewable = typeof token !== "string"
  const fetchToken = typeof token === "string" ? Effect.succeed(token) : token

  const scope = yield* Effect.scope
  const queue = yield* Queue.unbounded<Notification, SocketFatalError | Cause.Done>()
  const stateRef = yield* SubscriptionRef.make<SocketState>("connecting")
  const urls = typeof settings.url === "string" ? [settings.url] : settings.url
  const transports = yield* Effect.forEach(urls, (url) =>
    Transport.makeWebSocket(url).pipe(Effect.provide(Transport.layerWebSocketConstructorGlobal)))
  let connections = 0

  const seen = makeRecentIds(rememberedIds)
  let lastCursor: Cursor | undefined = settings.resumeFrom
  let attempt = 0
  /** Set by a herd close (1001/1006), cleared by the next open. */
  let spreading = false
  /** What the server's last `rate_limited` / `too_many_sockets` frame asked us to wait. */
  let serverRetryAfterMs = 0
  let delivered: Cursor | undefined
  let acked = 0
  let ackScheduled = false
  // Only set between `ready` and the end of a connection, so an ack is never sent before `auth`.
  let send: ((frame: Socket.ClientFrame) => Effect.Effect<void, Transport.SocketError>) | undefined

  // App code must not be able to kill the socket, so a throwing callback is only logged.
  const report = (state: SocketState) => {
    const onState = options.onState
    if (onState === undefined) return Effect.void
    return Effect.try({ try: () => onState(state), catch: (cause) => cause }).pipe(
      Effect.catch((cause) => Effect.logWarning("NotificationSocket onState callback failed", cause))
    )
  }
  const setState = (next: SocketState) =>
    Effect.gen(function*() {
      if ((yield* SubscriptionRef.get(stateRef)) === next) return
      // Report first, so that whoever sees a change on `stateChanges` knows `onState` has seen it too.
      yield* report(next)
      yield* SubscriptionRef.set(stateRef, next)
    })
  yield* report("connecting")

  const flushAck = Effect.suspend(() => {
    ackScheduled = false
    const cursor = delivered
    const write = send
    if (write === undefined || cursor === undefined || cursor <= acked) return Effect.void
    return write(new Socket.AckFrame({ type: "ack", cursor })).pipe(
      Effect.tap(() => Effect.sync(() => (acked = Math.max(acked, cursor)))),
      Effect.ignore
    )
  })

  // Coalesces a burst of emitted notifications into one cumulative ack.
  const scheduleAck = Effect.suspend(() => {
    if (ackScheduled || send === undefined || delivered === undefined || delivered <= acked) return Effect.void
    ackScheduled = true
    return Effect.sleep(ackDelayMs).pipe(Effect.andThen(flushAck), Effect.forkIn(scope), Effect.asVoid)
  })

  // Replayed items are outside cursor order: acking one would claim the cursors below it too.
  const replayedIds = new Set<string>()
  const markDelivered = (notification: Notification) =>
    Effect.suspend(() => {
      if (replayedIds.delete(notification.id)) return Effect.void
      if (delivered !== undefined && notification.cursor <= delivered) return Effect.void
      delivered = notification.cursor
      return scheduleAck
    })

  // A replayed frame (an operator's replay) may carry a cursor below ones already received: it
  // is new to this client unless its id was emitted already. It may also overtake live frames
  // with lower cursors, so it never moves the resume point.
  const onNotification = (notification: Notification, replayed: boolean) =>
    Effect.suspend(() => {
      const fresh = lastCursor === undefined || notification.cursor > lastCursor
      if (fresh && !replayed) lastCursor = notification.cursor
      if ((!fresh && !replayed) || seen.has(notification.id)) {
        return Effect.logDebug("NotificationSocket dropped a duplicate", notification.id, notification.cursor)
      }
      seen.add(notification.id)
      if (replayed && settings.ack !== false) replayedIds.add(notification.id)
      return Queue.offer(queue, notification)
    })

  // One connection, from dialling to its end; succeeds with the close code that ended it.
  const connection = (token: string) =>
    Effect.gen(function*() {
      const transport = transports[connections++ % transports.length] ?? transports[0]
      if (transport === undefined) return yield* Effect.die("NotificationSocket has no endpoint")
      const pull = yield* Transport.readerString(transport)
      const writer = yield* transport.writer
      const write = (frame: Socket.ClientFrame) => encodeFrame(frame).pipe(Effect.orDie, Effect.flatMap(writer.write))
      // A fetched token is not trusted either: one the server would refuse is refused here, like a 4401.
      yield* decodeAuth(lastCursor === undefined ? { type: "auth", token } : { type: "auth", token, resume: lastCursor }).pipe(
        Effect.flatMap(encodeFrame),
        Effect.mapError((error) => closedWith(Socket.CloseCodes.invalidToken, `token refused locally: ${error.message}`)),
        Effect.flatMap(writer.write)
      )
      let heartbeatMs = defaultHeartbeatMs
      while (true) {
        const texts = yield* pull.pipe(
          Effect.timeoutOrElse({
            duration: 2 * heartbeatMs,
            orElse: () => Effect.fail(closedWith(Socket.CloseCodes.timeout, "no frame from the server for two heartbeats"))
          })
        )
        for (const text of texts) {
          const decoded = decodeFrame(text)
          if (Exit.isFailure(decoded)) {
            yield* Effect.logWarning("NotificationSocket ignored an undecodable frame", Cause.pretty(decoded.cause))
            continue
          }
          const frame = decoded.value
          switch (frame.type) {
            case "ready": {
              heartbeatMs = frame.heartbeatMs > 0 ? frame.heartbeatMs : defaultHeartbeatMs
              attempt = 0
              spreading = false
              send = write
              yield* setState("open")
              yield* scheduleAck
              break
            }
            case "notification": {
              yield* onNotification(frame.notification, frame.replayed === true)
              break
            }
            case "synced": {
              // Without `resume` the server skips history; remembering its cursor keeps a later resume gap-free.
              if (lastCursor === undefined || frame.cursor > lastCursor) lastCursor = frame.cursor
              break
            }
            case "ping": {
              yield* write(new Socket.PongFrame({ type: "pong" }))
              break
            }
            case "pong": {
              break
            }
            case "error": {
              if (frame.retryAfterMs !== undefined) serverRetryAfterMs = frame.retryAfterMs
              yield* Effect.logWarning("NotificationSocket error frame", frame.code, frame.message)
              break
            }
          }
        }
      }
    }).pipe(
      Effect.scoped,
      Effect.catch((error) => Effect.succeed(closeCodeOf(error))),
      Effect.ensuring(Effect.sync(() => (send = undefined)))
    )

  const run = Effect.gen(function*() {
    while (true) {
      const code = yield* fetchToken.pipe(
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.interrupt
            : Effect.as(Effect.logWarning("NotificationSocket could not fetch a token; retrying", Cause.pretty(cause)), undefined)
        ),
        Effect.flatMap((fetched) => fetched === undefined ? Effect.succeed(undefined) : connection(fetched))
      )
      if (code === Socket.CloseCodes.normal) return
      if (code === Socket.CloseCodes.invalidToken || code === Socket.CloseCodes.tokenExpired) {
        const reason = code === Socket.CloseCodes.invalidToken ? "invalid_token" : "token_expired"
        if (!renewable) {
          return yield* new SocketAuthError({
            reason,
            closeCode: code,
            message: `the server refused the token (${reason}); pass the token as an Effect to renew it`
          })
        }
        yield* Effect.logInfo("NotificationSocket token refused, fetching a new one", reason)
      }
      yield* setState("reconnecting")
      const cap = Math.min(maxMs, initialMs * 2 ** attempt)
      if (attempt === 0 && (code === Socket.CloseCodes.goingAway || code === 1006)) spreading = true
      attempt++
      // Until a connection opens again, every redial of a herd stays spread: a node that takes longer
      // to come back than the first spread would otherwise meet all the failed redials at once.
      const delay = spreading
        ? yield* Random.nextBetween(0, Math.max(spreadMs, cap))
        : yield* Random.nextBetween(cap / 2, cap)
      const floor = code === Socket.CloseCodes.limited ? serverRetryAfterMs : 0
      serverRetryAfterMs = 0
      yield* Effect.sleep(Math.max(delay, floor))
    }
  })

  const fiber = yield* run.pipe(
    Effect.onExit((exit) =>
      Effect.andThen(
        setState("closed"),
        Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
          ? Queue.failCause(queue, exit.cause)
          : Queue.end(queue)
      )
    ),
    Effect.forkIn(scope)
  )

  const received = Stream.fromQueue(queue)
  return {
    notifications: settings.ack === false ? received : received.pipe(Stream.tap(markDelivered)),
    state: SubscriptionRef.get(stateRef),
    stateChanges: SubscriptionRef.changes(stateRef).pipe(Stream.takeUntil((state) => state === "closed")),
    lastCursor: Effect.sync(() => Option.fromUndefinedOr(lastCursor)),
    close: Fiber.interrupt(fiber)
  }
})

/**
 * Opens a notification socket in the current scope; closing the scope closes it.
 *
 * @example
 * ```ts
 * import { NotificationSocket } from "@herald/client"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const socket = yield* NotificationSocket.make({
 *     url: "wss://herald.example.com/ws",
 *     token: fetchClientToken, // Effect<string>: a fresh token for every reconnect
 *     onState: (state) => console.log("herald socket", state)
 *   })
 *   yield* socket.notifications.pipe(Stream.runForEach((n) => Effect.log(n.title)))
 * }).pipe(Effect.scoped)
 * ```
 */
export const NotificationSocket: {
  readonly make: (options: NotificationSocketOptions) => Effect.Effect<NotificationSocket, SocketOptionsError, Scope.Scope>
} = { make }
