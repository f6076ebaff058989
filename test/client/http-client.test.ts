/**
 * `HeraldClient.layerHttpClient` over the HttpClient a Node app provides
 * (`NodeHttpClient.layerUndici`, as the bench's publisher uses it) answers
 * and fails exactly as the default client over `fetch` does.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { HeraldClient, type HeraldClientOptions } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { createServer } from "node:net"
import { Herald } from "../support/Herald.ts"
import { apiKey } from "../support/TestServer.ts"

const undiciClient = (options: HeraldClientOptions) =>
  Layer.build(HeraldClient.layerHttpClient(options).pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
    Effect.map(Context.get(HeraldClient))
  )

const fetchClient = (options: HeraldClientOptions) =>
  Layer.build(HeraldClient.layer(options)).pipe(Effect.map(Context.get(HeraldClient)))

// A port nothing listens on: bound, read, then closed again.
const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

layer(Herald.layer(), { excludeTestServices: true, timeout: "60 seconds" })("HeraldClient over undici", (it) => {
  it.effect("publishes, deduplicates by idempotency key and reads the inbox", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const client = yield* undiciClient({ url: herald.server.url, apiKey })
      const first = yield* client.notify({ userId: "u-undici", kind: "mention", title: "one", idempotencyKey: "k1" })
      assert.isFalse(first.deduplicated)
      const [again, second] = yield* client.notifyBatch([
        { userId: "u-undici", kind: "mention", title: "one", idempotencyKey: "k1" },
        { userId: "u-undici", kind: "assignment", title: "two" }
      ])
      assert.deepStrictEqual([again?.id, again?.deduplicated, second?.deduplicated], [first.id, true, false])
      const page = yield* client.listInbox({ userId: "u-undici" })
      assert.deepStrictEqual(page.items.map(({ title }) => title), ["two", "one"])
    }).pipe(Effect.scoped))

  it.effect("fails with the same tagged errors as the fetch client", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const port = yield* freePort
      const item = { userId: "u-undici-e", kind: "mention", title: "x" } as const
      const cases = [
        { options: { url: herald.server.url, apiKey: "wrong" }, item },
        { options: { url: herald.server.url, apiKey }, item: { ...item, title: "" } },
        { options: { url: `http://127.0.0.1:${port}`, apiKey }, item }
      ]
      const viaUndici = yield* Effect.forEach(cases, ({ item, options }) =>
        Effect.flatMap(undiciClient(options), (client) => Effect.flip(client.notify(item))))
      const viaFetch = yield* Effect.forEach(cases, ({ item, options }) =>
        Effect.flatMap(fetchClient(options), (client) => Effect.flip(client.notify(item))))
      assert.deepStrictEqual(viaUndici.map(({ _tag }) => _tag), ["Unauthorized", "InvalidRequest", "ServerUnreachable"])
      assert.deepStrictEqual(viaFetch.map(({ _tag }) => _tag), ["Unauthorized", "InvalidRequest", "ServerUnreachable"])
      assert.deepStrictEqual(viaUndici.slice(0, 2).map(({ message }) => message), viaFetch.slice(0, 2).map(({ message }) => message))
      assert.include(viaUndici[1]?.message, "items[0].title")
      // undici names the cause where fetch says only "fetch failed".
      assert.include(viaUndici[2]?.message, `ECONNREFUSED 127.0.0.1:${port}`)
      const inbox = yield* (yield* undiciClient({ url: herald.server.url, apiKey })).listInbox({ userId: "u-undici-e" })
      assert.strictEqual(inbox.items.length, 0, "nothing was stored")
    }).pipe(Effect.scoped))
})
