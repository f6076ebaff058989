/**
 * `HeraldClient` against a real server, with its `Notify` calls limited to
 * one in flight: publishes made at once go out in fewer calls, every caller
 * gets its own results, duplicates are still recognised, and the inbox holds
 * each notification once. The HTTP requests are counted on the real
 * HttpClient (undici), not stubbed.
 */
import { assert, layer } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { countedUndici, type RequestCount } from "../support/CountedHttpClient.ts"
import { Herald } from "../support/Herald.ts"
import { apiKey } from "../support/TestServer.ts"

const countingClient = (url: string, maxNotifyCallsInFlight: number) =>
  Effect.gen(function*() {
    const requests: RequestCount = { count: 0 }
    const client = yield* Layer.build(
      HeraldClient.layerHttpClient({ url, apiKey, maxNotifyCallsInFlight }).pipe(Layer.provide(countedUndici(requests)))
    ).pipe(
      Effect.map(Context.get(HeraldClient))
    )
    return { client, requests }
  })

layer(Herald.layer(), { excludeTestServices: true, timeout: "60 seconds" })("HeraldClient coalescing", (it) => {
  it.effect("60 publishes at once with one call in flight: fewer calls, each caller its own results, nothing twice", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const { client, requests } = yield* countingClient(herald.server.url, 1)
      const users = ["coal-a", "coal-b", "coal-c"]
      const publishes = Array.from({ length: 60 }, (_, i) => ({
        userId: users[i % users.length] ?? "coal-a",
        kind: "mention" as const,
        title: `t${i}`,
        idempotencyKey: `coal-${i}`
      }))
      const results = yield* Effect.forEach(publishes, (item) => client.notify(item), { concurrency: "unbounded" })
      assert.isBelow(requests.count, 60, "publishes that waited went together")
      assert.isAtLeast(requests.count, 2)
      results.forEach((result, i) => {
        assert.strictEqual(result.userId, publishes[i]?.userId, `publish ${i} got its own user's result`)
        assert.isFalse(result.deduplicated)
      })
      assert.strictEqual(new Set(results.map(({ id }) => id)).size, 60)

      // The same keys again, merged the same way: every one is recognised as a duplicate.
      const again = yield* Effect.forEach(publishes, (item) => client.notify(item), { concurrency: "unbounded" })
      assert.deepStrictEqual(again.map(({ id }) => id), results.map(({ id }) => id))
      assert.isTrue(again.every(({ deduplicated }) => deduplicated))

      for (const userId of users) {
        const page = yield* client.listInbox({ userId, limit: 100 })
        assert.strictEqual(page.items.length, 20, `${userId} has each of its notifications once`)
        // One user's cursors have no gaps, whatever calls carried the items.
        assert.deepStrictEqual(page.items.map(({ cursor }) => cursor).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1))
      }
    }).pipe(Effect.scoped))

  it.effect("a bad publish among good ones fails alone, naming its field", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const { client } = yield* countingClient(herald.server.url, 1)
      const good = (i: number) => ({ userId: "coal-mixed", kind: "mention" as const, title: `ok${i}` })
      const outcomes = yield* Effect.forEach(
        [good(0), good(1), { userId: "coal-mixed", kind: "mention" as const, title: "" }, good(2)],
        (item) => Effect.result(client.notify(item)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(outcomes.map(({ _tag }) => _tag), ["Success", "Success", "Failure", "Success"])
      const failure = outcomes[2]
      assert.include(failure?._tag === "Failure" ? failure.failure.message : "", "items[0].title")
      const page = yield* client.listInbox({ userId: "coal-mixed" })
      assert.deepStrictEqual(page.items.map(({ title }) => title).sort(), ["ok0", "ok1", "ok2"])
    }).pipe(Effect.scoped))

  it.effect("maxNotifyCallsInFlight must be a whole number of at least 1", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const exit = yield* Effect.exit(countingClient(herald.server.url, 0))
      assert.strictEqual(exit._tag, "Failure")
      assert.include(String(exit._tag === "Failure" ? exit.cause : ""), "maxNotifyCallsInFlight must be an integer of at least 1, got 0")
    }).pipe(Effect.scoped))
})
