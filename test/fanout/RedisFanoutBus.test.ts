/**
 * The Redis fan-out bus between two nodes (two bus layers) on the real Redis
 * at redis://127.0.0.1:6379: frames cross nodes in order and whole, a node
 * subscribes only to the channels of users with a local listener, and a
 * malformed message on a channel is dropped without stopping later ones.
 *
 * User ids carry a per-run prefix, so parallel or repeated runs on one Redis
 * do not see each other's channels.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigurationError, Cursor, UserId } from "@herald/domain"
import { FanoutBus, type FanoutMessage } from "@herald/server/fanout/FanoutBus"
import { fanoutChannel, RedisFanoutBusLayer } from "@herald/server/fanout/RedisFanoutBus"
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { createClient } from "redis"
import { eventually } from "../support/eventually.ts"

const RedisUrl = "redis://127.0.0.1:6379"
const run = crypto.randomUUID().slice(0, 8)
const user = (name: string) => UserId.make(`fo-${run}-${name}`)

/** One "node": a bus layer of its own, with its own two Redis connections. */
const node = Layer.build(RedisFanoutBusLayer(Redacted.make(RedisUrl))).pipe(
  Effect.map((context) => Context.get(context, FanoutBus))
)

/** A plain Redis client, as an operator (or another program) would use. */
const plainRedis = Effect.acquireRelease(
  Effect.promise(() => createClient({ url: RedisUrl }).connect()),
  (client) => Effect.promise(() => client.close())
)

const message = (userId: UserId, cursor: number, acceptedAt = 1_750_000_000_000 + cursor): FanoutMessage => ({
  userId,
  cursor: Cursor.make(cursor),
  previous: Cursor.make(cursor - 1),
  frame: JSON.stringify({ type: "notification", notification: { cursor, title: `n${cursor}` } }),
  acceptedAt,
  kind: "mention",
  trace: null
})

/** A listener that records what it receives. */
const recorder = () => {
  const received: Array<FanoutMessage> = []
  return { received, listener: (m: FanoutMessage) => void received.push(m) }
}

const waitForCount = (received: ReadonlyArray<unknown>, count: number) =>
  eventually(Effect.sync(() => received.length), (n) => n >= count)

/** Subscribes until the returned scope is closed, which makes the listener leave. */
const subscribeUntilClosed = Effect.fnUntraced(function*(
  bus: FanoutBus["Service"],
  userId: UserId,
  listener: (m: FanoutMessage) => void
) {
  const scope = yield* Scope.make()
  const unsubscribe = yield* bus.subscribe(userId, listener)
  yield* Scope.addFinalizer(scope, Effect.sync(unsubscribe))
  return scope
})

const channelsOfThisRun = (redis: Effect.Success<typeof plainRedis>) =>
  Effect.promise(() => redis.pubSubChannels(`herald:u:fo-${run}-*`)).pipe(
    Effect.map((channels) => [...channels].sort())
  )

describe("RedisFanoutBus", () => {
  it.live("a listener for a user on node B receives what node A publishes, in order, with every field", () =>
    Effect.gen(function*() {
      const nodeA = yield* node
      const nodeB = yield* node
      const alice = user("alice")
      const { received, listener } = recorder()
      yield* nodeB.subscribe(alice, listener)

      const sent = [message(alice, 1), message(alice, 2), message(alice, 3), message(alice, 4)]
      yield* nodeA.publish(sent.slice(0, 3))
      yield* nodeA.publish(sent.slice(3))
      yield* waitForCount(received, sent.length)

      assert.deepStrictEqual(received, sent)
    }).pipe(Effect.scoped))

  it.live("a user with listeners on both nodes gets each frame on both, the publishing node's own included", () =>
    Effect.gen(function*() {
      const nodeA = yield* node
      const nodeB = yield* node
      const bob = user("bob")
      const onA = recorder()
      const onB = recorder()
      const onBSecondSocket = recorder()
      yield* nodeA.subscribe(bob, onA.listener)
      yield* nodeB.subscribe(bob, onB.listener)
      yield* nodeB.subscribe(bob, onBSecondSocket.listener)

      const sent = [message(bob, 1), message(bob, 2)]
      yield* nodeA.publish(sent)
      yield* waitForCount(onA.received, 2)
      yield* waitForCount(onB.received, 2)
      yield* waitForCount(onBSecondSocket.received, 2)

      assert.deepStrictEqual(onA.received, sent)
      assert.deepStrictEqual(onB.received, sent)
      assert.deepStrictEqual(onBSecondSocket.received, sent)
    }).pipe(Effect.scoped))

  it.live("a node subscribes only to channels of users with a local listener, and leaves when the last one goes", () =>
    Effect.gen(function*() {
      const redis = yield* plainRedis
      const nodeA = yield* node
      const nodeB = yield* node
      const carol = user("carol")
      const dave = user("dave")
      assert.deepStrictEqual(yield* channelsOfThisRun(redis), [])

      const first = recorder()
      const second = recorder()
      const firstScope = yield* subscribeUntilClosed(nodeB, carol, first.listener)
      const secondScope = yield* subscribeUntilClosed(nodeB, carol, second.listener)
      // Publishing to a user nobody listens to subscribes nothing.
      yield* nodeA.publish([message(dave, 1), message(carol, 1)])
      yield* waitForCount(second.received, 1)
      assert.deepStrictEqual(yield* channelsOfThisRun(redis), [fanoutChannel(carol)])

      // One of carol's two listeners leaves: the channel stays and the other still receives.
      yield* Scope.close(firstScope, Exit.void)
      yield* nodeA.publish([message(carol, 2)])
      yield* waitForCount(second.received, 2)
      assert.deepStrictEqual(yield* channelsOfThisRun(redis), [fanoutChannel(carol)])
      assert.deepStrictEqual(first.received.map((m) => m.cursor), [1])

      // The last one leaves: the node unsubscribes.
      yield* Scope.close(secondScope, Exit.void)
      const after = yield* eventually(channelsOfThisRun(redis), (channels) => channels.length === 0)
      assert.deepStrictEqual(after, [])

      // And a user that comes back is subscribed again.
      const again = recorder()
      yield* nodeB.subscribe(carol, again.listener)
      yield* nodeA.publish([message(carol, 3)])
      yield* waitForCount(again.received, 1)
      assert.deepStrictEqual(again.received, [message(carol, 3)])
    }).pipe(Effect.scoped))

  it.live("a user who leaves and comes back at once, before Redis answers the unsubscribe, is subscribed again", () =>
    Effect.gen(function*() {
      const nodeA = yield* node
      const nodeB = yield* node
      const frank = user("frank")
      for (let cursor = 1; cursor <= 5; cursor++) {
        const leaving = yield* subscribeUntilClosed(nodeB, frank, () => {})
        yield* Scope.close(leaving, Exit.void)
        const back = recorder()
        const scope = yield* subscribeUntilClosed(nodeB, frank, back.listener)
        yield* nodeA.publish([message(frank, cursor)])
        yield* waitForCount(back.received, 1)
        assert.deepStrictEqual(back.received, [message(frank, cursor)])
        yield* Scope.close(scope, Exit.void)
      }
    }).pipe(Effect.scoped))

  it.live("a malformed message on a user's channel is dropped and later good ones still arrive", () =>
    Effect.gen(function*() {
      const redis = yield* plainRedis
      const nodeA = yield* node
      const nodeB = yield* node
      const erin = user("erin")
      const { received, listener } = recorder()
      yield* nodeB.subscribe(erin, listener)

      const good = message(erin, 7)
      const channel = fanoutChannel(erin)
      yield* Effect.promise(() =>
        Promise.all([
          redis.publish(channel, "not json"),
          redis.publish(channel, JSON.stringify({ ...good, cursor: -1 })),
          redis.publish(channel, JSON.stringify({ ...good, frame: 42 })),
          redis.publish(channel, JSON.stringify({ userId: erin, cursor: 8 })),
          // Well-formed, but for another user: not erin's to receive.
          redis.publish(channel, JSON.stringify({ ...good, userId: user("mallory") }))
        ])
      )
      yield* nodeA.publish([good])
      // Redis keeps a channel's order, so once the good one is here the bad ones were already handled.
      yield* waitForCount(received, 1)

      assert.deepStrictEqual(received, [good])
    }).pipe(Effect.scoped))

  it.live("a Redis that cannot be reached at start fails the layer with ConfigurationError", () =>
    Effect.gen(function*() {
      const exit = yield* Layer.build(RedisFanoutBusLayer(Redacted.make("redis://127.0.0.1:1"))).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      assert.isTrue(error?._tag === "Fail" && error.error instanceof ConfigurationError)
    }).pipe(Effect.scoped))
})
