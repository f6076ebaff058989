/**
 * The Redis-backed `FanoutBus` for a cluster: every node publishes the frames
 * it stores and receives, over Redis pub/sub, the frames for the
 * users that have a socket on it.
 *
 * - One channel per user, `herald:u:<userId>`. A node subscribes to a user's
 *   channel when that user's first local listener arrives and unsubscribes
 *   when the last one leaves, so Redis traffic to a node scales with the users
 *   connected to it, not with the cluster.
 * - All delivery goes through Redis, local listeners included: the node that
 *   publishes does not call its own listeners directly, so every node sees a
 *   user's frames in the one order Redis gives them.
 * - `publish` queues a batch as one pipeline of PUBLISH commands and returns
 *   without waiting for Redis to answer. While the publisher is disconnected, frames are dropped (the
 *   outage is logged once as a warning, each dropped batch at debug level):
 *   the notifications are already stored, and sockets get them on their next
 *   resume. `publish` never fails.
 * - Incoming messages are decoded with Schema; a malformed one is logged and
 *   dropped.
 * - `subscribe` returns once Redis has confirmed the subscription, so frames
 *   published after it returns reach the listener.
 *
 * Reconnects: frames published while the subscriber was disconnected are
 * lost (Redis pub/sub keeps nothing). When the subscriber is back, the bus
 * subscribes again to every wanted channel and then calls each subscription's
 * `onGap`, so the gateway makes those sockets catch up from PostgreSQL.
 */
import { ConfigurationError, Cursor, NotificationKind, UserId } from "@herald/domain"
import { Effect, Exit, Fiber, FiberSet, Layer, Redacted, Schema, SchemaIssue } from "effect"
import { createClient } from "redis"
import { FanoutBus, type FanoutListener, type FanoutMessage, type Unsubscribe } from "./FanoutBus.ts"

/** The Redis channel that carries `userId`'s frames. */
export const fanoutChannel = (userId: UserId): string => `herald:u:${userId}`

const WireMessage = Schema.fromJsonString(Schema.Struct({
  userId: UserId,
  cursor: Cursor,
  previous: Cursor,
  frame: Schema.String,
  acceptedAt: Schema.Finite,
  kind: NotificationKind,
  trace: Schema.NullOr(Schema.String.check(Schema.isMaxLength(100))),
  replay: Schema.optionalKey(Schema.Literal(true))
}))
const decodeWire = Schema.decodeUnknownExit(WireMessage)
const formatIssue = SchemaIssue.makeFormatterDefault()

// Explicit fields, so nothing beyond the message's own leaks onto the wire.
const encodeWire = (message: FanoutMessage): string =>
  JSON.stringify({
    userId: message.userId,
    cursor: message.cursor,
    previous: message.previous,
    frame: message.frame,
    acceptedAt: message.acceptedAt,
    kind: message.kind,
    trace: message.trace,
    ...(message.replay === true ? { replay: true } : {})
  })

const errorMessage = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

interface UserChannel {
  readonly listeners: Set<FanoutListener>
  /** Completes once Redis has confirmed the subscription (or the channel was given up). */
  ready: Fiber.Fiber<void> | undefined
  /** What to call after a reconnect, per listener. */
  readonly gaps: Map<FanoutListener, () => void>
}

const MaxResubscribeDelayMillis = 2_000

/**
 * The Redis `FanoutBus` at `url`. Fails with `ConfigurationError` when Redis
 * cannot be reached at start; later outages are retried by the client.
 */
export const RedisFanoutBusLayer = (url: Redacted.Redacted<string>): Layer.Layer<FanoutBus, ConfigurationError> =>
  Layer.effect(FanoutBus, make(url))

const make = Effect.fnUntraced(function*(url: Redacted.Redacted<string>) {
  const run = yield* FiberSet.makeRuntime()
  const channels = new Map<UserId, UserChannel>()
  // Before start, a failed connection fails the layer instead of retrying forever.
  let started = false
  // Set once the subscriber exists; run after it reconnects.
  let resync: Effect.Effect<void> = Effect.void

  const connectClient = Effect.fnUntraced(function*(role: "publisher" | "subscriber", client: RedisClient) {
    let up = false
    client.on("error", (cause: unknown) => {
      // One log per outage, not one per reconnect attempt.
      if (started && up) run(Effect.logWarning(`fan-out Redis ${role} disconnected`, errorMessage(cause)))
      up = false
    })
    client.on("ready", () => {
      if (started && !up && role === "subscriber") {
        // Once now, and once more when other nodes' publishers are likely back too: frames they
        // dropped while Redis was away are caught up from the store.
        run(
          Effect.logWarning("fan-out reconnected; catching sockets up on what Redis dropped").pipe(
            Effect.andThen(resync),
            Effect.andThen(Effect.sleep("2 seconds")),
            Effect.andThen(resync)
          )
        )
      } else if (started && !up) {
        run(Effect.logInfo(`fan-out Redis ${role} reconnected`))
      }
      up = true
    })
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => client.connect(),
        catch: (cause) =>
          new ConfigurationError({ message: `fan-out Redis (${role}) cannot be reached: ${errorMessage(cause)}` })
      }).pipe(Effect.tapError(() => Effect.sync(() => client.isOpen && client.destroy()))),
      () => close(client)
    )
  })

  const publisher = createClient({
    url: Redacted.value(url),
    socket: {
      reconnectStrategy: (retries: number, cause: Error) =>
        started ? Math.min(2 ** retries * 50, MaxResubscribeDelayMillis) : cause
    }
  })
  const subscriber = publisher.duplicate()
  yield* connectClient("publisher", publisher)
  yield* connectClient("subscriber", subscriber)
  started = true

  const onMessage = (raw: string, channel: string) => {
    const decoded = decodeWire(raw)
    if (Exit.isFailure(decoded)) {
      const reason = decoded.cause.reasons[0]
      const issue = reason?._tag === "Fail" ? formatIssue(reason.error.issue) : "not a fan-out message"
      run(Effect.logWarning("fan-out dropped a malformed message", { channel, issue }))
      return
    }
    const message = decoded.value
    if (fanoutChannel(message.userId) !== channel) {
      run(Effect.logWarning("fan-out dropped a message for another user's channel", { channel }))
      return
    }
    const local = channels.get(message.userId)
    if (local !== undefined) for (const listener of local.listeners) listener(message)
  }

  // Waits for the SUBSCRIBE already sent; if Redis refuses it (a connection
  // lost while it was in flight), sends it again while the channel is wanted.
  const confirmSubscribed = Effect.fnUntraced(function*(userId: UserId, entry: UserChannel, first: Promise<void>) {
    let attempt = first
    let delayMillis = 100
    while (true) {
      const exit = yield* Effect.exit(Effect.tryPromise(() => attempt))
      if (Exit.isSuccess(exit) || channels.get(userId) !== entry) return
      yield* Effect.logWarning("fan-out could not subscribe; retrying", { userId })
      yield* Effect.sleep(delayMillis)
      delayMillis = Math.min(delayMillis * 2, MaxResubscribeDelayMillis)
      if (channels.get(userId) !== entry) return
      attempt = subscriber.subscribe(fanoutChannel(userId), onMessage)
    }
  })

  const publish = Effect.fn("FanoutBus.publish")(function*(messages: ReadonlyArray<FanoutMessage>) {
    if (messages.length === 0) return
    if (!publisher.isReady) {
      yield* Effect.logDebug("fan-out publisher offline; frames dropped", { count: messages.length })
      return
    }
    const pipeline = publisher.multi()
    for (const message of messages) pipeline.publish(fanoutChannel(message.userId), encodeWire(message))
    // The commands are queued on the connection now, in call order, so a user's frames keep
    // their order; the reply is not awaited, so a slow Redis never slows a publish down.
    const sent = pipeline.execAsPipeline()
    run(Effect.tryPromise(() => sent).pipe(
      Effect.catch((error) =>
        Effect.logWarning("fan-out publish failed; frames dropped", {
          count: messages.length,
          error: errorMessage(error.cause)
        })
      )
    ))
  })

  const join = (userId: UserId, listener: FanoutListener, onGap: (() => void) | undefined): UserChannel => {
    const existing = channels.get(userId)
    if (existing !== undefined) {
      existing.listeners.add(listener)
      if (onGap !== undefined) existing.gaps.set(listener, onGap)
      return existing
    }
    const entry: UserChannel = { listeners: new Set([listener]), ready: undefined, gaps: new Map() }
    if (onGap !== undefined) entry.gaps.set(listener, onGap)
    channels.set(userId, entry)
    // Sent synchronously, so SUBSCRIBE and UNSUBSCRIBE reach Redis in the order of the map changes.
    entry.ready = run(confirmSubscribed(userId, entry, subscriber.subscribe(fanoutChannel(userId), onMessage)))
    return entry
  }

  const leave = (userId: UserId, listener: FanoutListener, entry: UserChannel) => {
    entry.listeners.delete(listener)
    entry.gaps.delete(listener)
    if (entry.listeners.size > 0 || channels.get(userId) !== entry) return
    channels.delete(userId)
    // With the listener, so the client marks the channel as unsubscribing and a user who comes
    // back before Redis answers gets a fresh SUBSCRIBE instead of joining the dying one.
    const unsubscribed = subscriber.unsubscribe(fanoutChannel(userId), onMessage)
    run(
      Effect.tryPromise(() => unsubscribed).pipe(
        Effect.catch((error) => Effect.logDebug("fan-out unsubscribe failed", { userId, error: errorMessage(error.cause) }))
      )
    )
  }

  const subscribe = (userId: UserId, listener: FanoutListener, onGap?: () => void): Effect.Effect<Unsubscribe> =>
    Effect.suspend(() => {
      const entry = join(userId, listener, onGap)
      let joined = true
      const unsubscribe = () => {
        if (!joined) return
        joined = false
        leave(userId, listener, entry)
      }
      // A caller that stops waiting for Redis's confirmation leaves at once.
      return entry.ready === undefined
        ? Effect.succeed(unsubscribe)
        : Fiber.join(entry.ready).pipe(Effect.onInterrupt(() => Effect.sync(unsubscribe)), Effect.as(unsubscribe))
    })

  // After a subscriber reconnect: make sure every wanted channel is subscribed, then let the
  // subscribers catch up on what Redis dropped while it was away.
  resync = Effect.gen(function*() {
    const wanted = [...channels.keys()]
    if (wanted.length === 0) return
    yield* Effect.tryPromise(() => subscriber.subscribe(wanted.map(fanoutChannel), onMessage)).pipe(
      Effect.catch((error) => Effect.logWarning("fan-out could not resubscribe", errorMessage(error.cause)))
    )
    for (const userId of wanted) {
      for (const onGap of channels.get(userId)?.gaps.values() ?? []) onGap()
    }
  })

  return FanoutBus.of({ publish, subscribe })
})

type RedisClient = ReturnType<typeof createClient>

// Waits for pending commands, but not forever: a connection lost during
// close would leave `close()` pending.
const close = (client: RedisClient) =>
  client.isOpen
    ? Effect.promise(() => client.close()).pipe(Effect.timeoutOption("5 seconds"), Effect.asVoid)
    : Effect.void
