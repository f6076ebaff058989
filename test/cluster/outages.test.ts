/**
 * A three-node cluster through the outages of what it stands on: Redis
 * restarted under load (live fan-out recovers, sockets catch up on what it
 * dropped) and PostgreSQL unreachable (Notify fails fast with a retryable
 * typed error, nothing is half-written, service resumes when it is back).
 */
import { assert, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { clientsFor, startCluster } from "../support/Cluster.ts"
import { privateRedis } from "../support/PrivateRedis.ts"
import { tcpProxy } from "../support/TcpProxy.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { awaitDelivered, openReceiver, publishReliably, runLoad, users } from "./support.ts"

it.live("Redis restarted under load: live fan-out recovers by itself and sockets catch up on what it dropped, each notification once", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const nodes = yield* startCluster({ nodes: 3, databaseUrl: database.url, redisUrl: redis.url })
    const clients = yield* clientsFor(nodes)
    const ids = users("redis", 18)
    const receivers = yield* Effect.forEach(ids, (userId, i) => openReceiver(clients[0]!, nodes, userId, i % 3))
    const accepted = yield* runLoad({
      clients,
      users: ids,
      total: 450,
      workers: 6,
      prefix: "redis",
      pauseMillis: 40,
      during: (sequence) => sequence === 120 ? redis.stop : sequence === 240 ? redis.start : undefined
    })
    const result = yield* awaitDelivered(receivers, accepted)
    assert.deepStrictEqual(result, { missing: [], duplicated: [], unexpected: [] })
    assert.strictEqual(accepted.length, 450)
  }).pipe(Effect.scoped), { timeout: 180_000 })

it.live("PostgreSQL unreachable: Notify fails fast with a retryable StorageUnavailable, stores nothing, and service resumes when it is back", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const target = new URL(database.url)
    const proxy = yield* tcpProxy({ host: target.hostname, port: Number(target.port) })
    const viaProxy = `postgres://${target.username}@127.0.0.1:${proxy.port}${target.pathname}`
    const nodes = yield* startCluster({ nodes: 3, databaseUrl: viaProxy, redisUrl: redis.url })
    const clients = yield* clientsFor(nodes)
    const ids = users("pg", 6)
    const receivers = yield* Effect.forEach(ids, (userId, i) => openReceiver(clients[0]!, nodes, userId, i % 3))
    const before = yield* Effect.forEach(ids, (userId, i) =>
      publishReliably(clients, i, { userId, key: `pg-before-${i}`, title: "before" }))

    yield* proxy.cut
    // At once, and again once the outage has outlasted the failover time (shard locks lost).
    const attempt = (round: number) => Effect.forEach(ids, (userId, i) =>
      Effect.gen(function*() {
        const began = Date.now()
        const exit = yield* Effect.exit(
          clients[(i + round) % 3]!.notify({ userId, kind: "mention", title: "during", idempotencyKey: `pg-during-${i}` })
        )
        return { exit, millis: Date.now() - began }
      }), { concurrency: "unbounded" })
    const first = yield* attempt(0)
    yield* Effect.sleep("6 seconds")
    const failures = [...first, ...(yield* attempt(1))]
    for (const { exit } of failures) {
      assert.isTrue(Exit.isFailure(exit), "no publish succeeds without the database")
      if (Exit.isFailure(exit)) {
        const error = exit.cause.reasons[0]
        assert.strictEqual(error?._tag, "Fail")
        if (error?._tag === "Fail") {
          assert.strictEqual(error.error._tag, "StorageUnavailable")
          assert.isTrue("retryable" in error.error && error.error.retryable, "the error says a retry may succeed")
        }
      }
    }
    yield* Effect.logWarning("Notify with PostgreSQL unreachable failed after (ms)", failures.map((f) => f.millis))

    yield* proxy.restore
    // Nothing of the failed calls was stored; the retries (same keys) store each once.
    const half = yield* query<{ n: number }>(database.url, "SELECT count(*)::int AS n FROM notifications WHERE idempotency_key LIKE 'pg-during-%'")
    assert.strictEqual(half[0]?.n, 0)
    const after = yield* Effect.forEach(ids, (userId, i) =>
      publishReliably(clients, i, { userId, key: `pg-during-${i}`, title: "after" }))
    const result = yield* awaitDelivered(receivers, [...before, ...after])
    assert.deepStrictEqual(result, { missing: [], duplicated: [], unexpected: [] })
    const stored = yield* query<{ n: number }>(database.url, "SELECT count(*)::int AS n FROM notifications")
    assert.strictEqual(stored[0]?.n, ids.length * 2)
    yield* Effect.logWarning("first publish after PostgreSQL came back took (ms)", Math.max(...after.map((a) => a.millis)))
  }).pipe(Effect.scoped), { timeout: 180_000 })
