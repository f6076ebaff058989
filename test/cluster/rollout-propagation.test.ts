/**
 * A rollout change made through one node applies on every node of a
 * three-node cluster within a second: each change is announced with
 * PostgreSQL NOTIFY on commit, and every node reloads the flag when it hears
 * of a newer version. Measured per node for a series of changes, the kill
 * switch first.
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { startCluster } from "../support/Cluster.ts"
import { privateRedis } from "../support/PrivateRedis.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey } from "../support/TestServer.ts"

it.live("a flag change (the kill switch included) reaches all three nodes in under a second", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const nodes = yield* startCluster({ nodes: 3, databaseUrl: database.url, redisUrl: redis.url })
    const admins = yield* Effect.forEach(nodes, (node) =>
      Layer.build(HeraldAdminClient.layer({ url: node.url, adminKey })).pipe(Effect.map(Context.get(HeraldAdminClient))))
    const changes = [
      { action: "kill", actor: "test@ci" },
      { action: "resume", actor: "test@ci" },
      { action: "set", percentage: 5, actor: "test@ci" },
      { action: "set", percentage: 25, actor: "test@ci" },
      { action: "kill", actor: "test@ci", reason: "drill" }
    ] as const
    const timings: Array<ReadonlyArray<number>> = []
    for (const [i, change] of changes.entries()) {
      const via = admins[i % admins.length]!
      const started = Date.now()
      const state = yield* via.changeRollout(change)
      // Each node answers with the version it applies; poll until all have the new one.
      const applied = yield* Effect.forEach(admins, (admin) =>
        Effect.gen(function*() {
          while ((yield* admin.getRollout()).nodeVersion < state.version) {
            if (Date.now() - started > 10_000) return Number.POSITIVE_INFINITY
            yield* Effect.sleep("5 millis")
          }
          return Date.now() - started
        }), { concurrency: "unbounded" })
      timings.push(applied)
    }
    yield* Effect.logWarning("rollout change → applied on each node (ms)", timings)
    const slowest = Math.max(...timings.flat())
    assert.isBelow(slowest, 1_000, `slowest node took ${slowest} ms`)
    const final = yield* admins[2]!.getRollout()
    assert.isTrue(final.state.killed)
    assert.strictEqual(final.state.percentage, 25)
  }).pipe(Effect.scoped), { timeout: 90_000 })
