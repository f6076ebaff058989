/**
 * In a cluster the per-key rate limit is one budget for every node (the
 * buckets live in Redis), not the limit times the number of nodes. With
 * Redis down, calls are neither refused nor held up: each node limits on its
 * own buckets (and counts the fallback), and once Redis is back the budget is
 * shared again. A node shuts down cleanly while Redis is away.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client/HeraldClient"
import { Context, Effect, Exit, Layer } from "effect"
import { eventually } from "../support/eventually.ts"
import { privateRedis } from "../support/PrivateRedis.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const PerSecond = 10
const Burst = 30
// The bucket's capacity plus what it refills while a burst is in flight.
const AdmittedAtMost = PerSecond + 4

const fallbacks = (url: string) =>
  Effect.promise(() =>
    fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } }).then((response) => response.text())
  ).pipe(Effect.map((text) => {
    let total = 0
    for (const line of text.split("\n")) {
      if (line.startsWith("herald_rate_limit_fallbacks_total")) total += Number(line.slice(line.lastIndexOf(" ") + 1))
    }
    return total
  }))

it.live("two nodes share one per-key budget; with Redis down each limits on its own, then they share again", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const limits = { rpcPerKey: PerSecond }
    const a = yield* testServer({ databaseUrl: database.url, redisUrl: redis.url, limits })
    const b = yield* testServer({ databaseUrl: database.url, redisUrl: redis.url, limits })
    const clientOf = (url: string) =>
      Layer.build(HeraldClient.layer({ url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const clients = [yield* clientOf(a.url), yield* clientOf(b.url)] as const

    /** `Burst` calls at once, spread over `on`; how many were admitted, and every refusal was RateLimited. */
    const burst = (on: ReadonlyArray<HeraldClient["Service"]>) =>
      Effect.gen(function*() {
        // A full bucket to start from.
        yield* Effect.sleep("1100 millis")
        const exits = yield* Effect.forEach(
          Array.from({ length: Burst }, (_, i) => i),
          (i) => Effect.exit(on[i % on.length]!.listInbox({ userId: "shared-limit-user", limit: 1 })),
          { concurrency: Burst }
        )
        for (const exit of exits) {
          if (Exit.isSuccess(exit)) continue
          const reason = exit.cause.reasons[0]
          assert.strictEqual(reason?._tag === "Fail" ? reason.error._tag : reason?._tag, "RateLimited")
        }
        return exits.filter(Exit.isSuccess).length
      })

    const shared = yield* burst(clients)
    assert.isAtLeast(shared, 1)
    assert.isAtMost(shared, AdmittedAtMost, `one budget across both nodes: ${shared} of ${Burst} admitted`)
    assert.strictEqual(yield* fallbacks(a.url), 0)

    yield* redis.stop
    const alone = yield* burst([clients[0]])
    assert.isAtLeast(alone, 1, "calls go on without Redis")
    assert.isAtMost(alone, AdmittedAtMost, `node A still limits on its own buckets: ${alone} admitted`)
    const fellBack = yield* fallbacks(a.url)
    assert.isAtLeast(fellBack, Burst, "every check while Redis was down used the node's buckets")

    yield* redis.start
    // Shared again once no check of a burst fell back and the two nodes together kept to one budget.
    const again = yield* eventually(
      Effect.gen(function*() {
        const before = (yield* fallbacks(a.url)) + (yield* fallbacks(b.url))
        const admitted = yield* burst(clients)
        const after = (yield* fallbacks(a.url)) + (yield* fallbacks(b.url))
        return { admitted, fellBack: after - before }
      }),
      (result) => result.fellBack === 0,
      { times: 10, every: "500 millis" }
    )
    assert.strictEqual(again.fellBack, 0, "the shared store answers again")
    assert.isAtMost(again.admitted, AdmittedAtMost, `one budget again: ${again.admitted} admitted`)

    // The nodes stop (at the end of this scope) with Redis away: a pending check must not hold that up.
    yield* redis.stop
    yield* burst(clients)
  }).pipe(Effect.scoped), { timeout: 120_000 })
