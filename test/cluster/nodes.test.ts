/**
 * Three real server processes as one effect/cluster on the machine's
 * PostgreSQL and a private Redis, with clients on different nodes: frames
 * cross nodes, a node killed with SIGKILL or stopped with SIGTERM under load
 * loses nothing and shows nothing twice, and a node that comes back takes
 * shards again.
 */
import { assert, it } from "@effect/vitest"
import { NotificationSocket } from "@herald/client"
import { Effect, Exit, Stream } from "effect"
import { clientsFor, startCluster } from "../support/Cluster.ts"
import { eventually } from "../support/eventually.ts"
import { privateRedis } from "../support/PrivateRedis.ts"
import { openRaw } from "../support/RawSocket.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { awaitDelivered, openReceiver, runLoad, users } from "./support.ts"

it.live("a user's sockets on two nodes both get a notification published on the third, once each; preferences set on one node route publishes on another", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const nodes = yield* startCluster({ nodes: 3, databaseUrl: database.url, redisUrl: redis.url })
    const [c0, c1, c2] = yield* clientsFor(nodes)
    if (c0 === undefined || c1 === undefined || c2 === undefined) return assert.fail("three clients")
    const onNode0 = yield* openReceiver(c0, nodes, "x-user", 0)
    const onNode1 = yield* openReceiver(c1, nodes, "x-user", 1)

    const sent = yield* c2.notify({ userId: "x-user", kind: "mention", title: "from node 2" })
    const delivered = yield* awaitDelivered([onNode0, onNode1], [{ userId: "x-user", id: sent.id, key: "", attempts: 1, millis: 0 }])
    assert.deepStrictEqual(delivered, { missing: [], duplicated: [], unexpected: [] })
    assert.deepStrictEqual([onNode0.ids, onNode1.ids], [[sent.id], [sent.id]])

    // The user's mailbox lives on one node only, so a preference set through any node routes every publish.
    yield* c0.updatePreferences("x-user", { kinds: { mention: { inApp: false } } })
    yield* c1.notify({ userId: "x-user", kind: "mention", title: "muted" })
    yield* c0.updatePreferences("x-user", { kinds: { mention: { inApp: true } } })
    const after = yield* c2.notify({ userId: "x-user", kind: "mention", title: "unmuted" })
    yield* awaitDelivered([onNode0, onNode1], [
      { userId: "x-user", id: sent.id, key: "", attempts: 1, millis: 0 },
      { userId: "x-user", id: after.id, key: "", attempts: 1, millis: 0 }
    ])
    assert.deepStrictEqual([onNode0.ids, onNode1.ids], [[sent.id, after.id], [sent.id, after.id]])

    const runners = yield* query<{ n: number }>(database.url, "SELECT count(*)::int AS n FROM cluster_runners WHERE healthy")
    assert.strictEqual(runners[0]?.n, 3)
  }).pipe(Effect.scoped), { timeout: 90_000 })

it.live("three nodes publishing to one user at once: its socket gets every notification once, in cursor order", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const nodes = yield* startCluster({ nodes: 3, databaseUrl: database.url, redisUrl: redis.url })
    const clients = yield* clientsFor(nodes)
    const [c0] = clients
    const node0 = nodes[0]
    if (c0 === undefined || node0 === undefined) return assert.fail("a client and a node")
    const socket = yield* openRaw(node0.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* c0.issueClientToken("hot-user")).token })
    yield* socket.until("synced")

    // No node owns the user's publishes, so the three race for the user's counter row and put
    // their frames on Redis in any order; the gateway must still write cursors 1..n, each once.
    const count = 90
    yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
      Effect.flatMap(Effect.fromNullishOr(clients[i % clients.length]), (client) =>
        client.notify({ userId: "hot-user", kind: "mention", title: `n${i}` })), { concurrency: "unbounded", discard: true })
    const cursors: Array<number> = []
    while (cursors.length < count) {
      const frame = yield* socket.next("10 seconds")
      const notification = frame["notification"]
      if (frame.type === "notification" && typeof notification === "object" && notification !== null && "cursor" in notification) {
        cursors.push(Number(notification.cursor))
      }
    }
    assert.deepStrictEqual(cursors, Array.from({ length: count }, (_, i) => i + 1))
    const extra = yield* Effect.exit(socket.next("1 second"))
    assert.isTrue(Exit.isFailure(extra), "nothing after the last one")
  }).pipe(Effect.scoped), { timeout: 90_000 })

it.live("kill -9 of a node under load: its shards move, its sockets resume elsewhere, every accepted notification arrives once", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const nodes = yield* startCluster({ nodes: 3, databaseUrl: database.url, redisUrl: redis.url })
    const clients = yield* clientsFor(nodes)
    const ids = users("kill", 24)
    const receivers = yield* Effect.forEach(ids, (userId, i) => openReceiver(clients[0]!, nodes, userId, i % 3))
    const victim = nodes[1]!
    let killedAt = 0
    // Every shard is an advisory lock held by its runner's session; after the kill the
    // survivors must hold all of them again.
    const shardLocks = query<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()`
    ).pipe(Effect.map((rows) => rows[0]?.n ?? 0))
    const AllShards = 300 // effect/cluster's shards per group; one group
    yield* eventually(shardLocks, (n) => n >= AllShards, { times: 100, every: "100 millis" })
    let movedAfterMs = -1
    const watchShards = Effect.gen(function*() {
      for (let i = 0; i < 600 && (yield* shardLocks) >= AllShards; i++) yield* Effect.sleep("50 millis")
      for (let i = 0; i < 600; i++) {
        if ((yield* shardLocks) >= AllShards) {
          movedAfterMs = Date.now() - killedAt
          return
        }
        yield* Effect.sleep("50 millis")
      }
    })
    const accepted = yield* runLoad({
      clients,
      users: ids,
      total: 600,
      workers: 8,
      prefix: "kill",
      pauseMillis: 40,
      during: (sequence) =>
        sequence === 200
          ? Effect.suspend(() => {
            killedAt = Date.now()
            return Effect.andThen(victim.kill, watchShards)
          })
          : undefined
    })
    const result = yield* awaitDelivered(receivers, accepted)
    const afterKill = accepted.filter((a) => a.attempts > 1 || a.millis > 1_000)
    yield* Effect.logWarning("kill -9 under load", {
      accepted: accepted.length,
      retried: accepted.filter((a) => a.attempts > 1).length,
      slowestPublishMs: Math.max(...accepted.map((a) => a.millis)),
      slowAfterKill: afterKill.length,
      shardsMovedAfterMs: movedAfterMs,
      socketsReconnected: receivers.filter((r) => r.reconnects() > 0).length
    })
    assert.deepStrictEqual(result, { missing: [], duplicated: [], unexpected: [] })
    assert.strictEqual(accepted.length, 600)
    assert.isAbove(movedAfterMs, 0, "the killed node's shards were taken by the others")
    // A third of the sockets were on the killed node and had to resume on another.
    assert.isAtLeast(receivers.filter((r) => r.reconnects() > 0).length, 8)
    const stored = yield* query<{ n: number }>(database.url, "SELECT count(*)::int AS n FROM notifications")
    assert.strictEqual(stored[0]?.n, 600, "each key stored once")
  }).pipe(Effect.scoped), { timeout: 180_000 })

it.live("SIGTERM of a node under load: it exits cleanly, its sockets are told to reconnect (1001), nothing is lost; started again it takes shards back", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const nodes = yield* startCluster({ nodes: 3, databaseUrl: database.url, redisUrl: redis.url })
    const clients = yield* clientsFor(nodes)
    const ids = users("term", 18)
    const receivers = yield* Effect.forEach(ids, (userId, i) => openReceiver(clients[0]!, nodes, userId, i % 3))
    const leaving = nodes[2]!
    const exitCodes: Array<number | null> = []
    const accepted = yield* runLoad({
      clients,
      users: ids,
      total: 450,
      workers: 6,
      prefix: "term",
      pauseMillis: 40,
      during: (sequence) =>
        sequence === 150
          ? leaving.stop.pipe(Effect.map((code) => void exitCodes.push(code)))
          : sequence === 300
          ? leaving.start
          : undefined
    })
    const result = yield* awaitDelivered(receivers, accepted)
    assert.deepStrictEqual(result, { missing: [], duplicated: [], unexpected: [] })
    assert.deepStrictEqual(exitCodes, [0], "a stopped node exits with 0")
    assert.isAtLeast(receivers.filter((r) => r.reconnects() > 0).length, 6)

    // Back in the cluster: shards are spread over three runners again (each holds its shard
    // locks as PostgreSQL advisory locks in its own session), and it serves sockets again.
    const holders = () =>
      query<{ n: number }>(
        database.url,
        `SELECT count(DISTINCT l.pid)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND a.datname = current_database()`
      ).pipe(Effect.map((rows) => rows[0]?.n ?? 0))
    assert.strictEqual(yield* eventually(holders(), (n) => n === 3, { times: 150, every: "200 millis" }), 3)
    const socket = yield* NotificationSocket.make({ url: leaving.wsUrl, token: (yield* clients[0]!.issueClientToken("term-u0")).token, resumeFrom: undefined })
    yield* socket.stateChanges.pipe(Stream.takeUntil((state) => state === "open"), Stream.runDrain)
  }).pipe(Effect.scoped), { timeout: 180_000 })
