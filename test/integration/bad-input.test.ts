/**
 * Bad input from apps: a wrong API key and schema-invalid payloads are
 * refused with a clear, typed error, and nothing is written.
 */
import { assert, layer } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { Herald } from "../support/Herald.ts"
import { query } from "../support/TestDatabase.ts"
import { apiKey } from "../support/TestServer.ts"

const postRpc = (url: string, key: string | undefined, body: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
      body: JSON.stringify(body)
    })
    return { status: response.status, body: await response.text() }
  })

const notifyRequest = (items: ReadonlyArray<unknown>) => ({
  _tag: "Request",
  id: "1",
  tag: "Notify",
  payload: { items },
  headers: []
})

const storedFor = (databaseUrl: string, userId: string) =>
  query<{ n: string }>(databaseUrl, "SELECT count(*)::text AS n FROM notifications WHERE user_id = $1", [userId]).pipe(
    Effect.map((rows) => Number(rows[0]?.n ?? "0"))
  )

layer(Herald.layer(), { excludeTestServices: true, timeout: "60 seconds" })("bad input", (it) => {
  it.effect("a wrong or missing API key gets 401 and stores nothing", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const item = { userId: "b-key", kind: "mention", title: "x" }
      const wrong = yield* postRpc(herald.server.url, "not-the-key", notifyRequest([item]))
      assert.strictEqual(wrong.status, 401)
      assert.include(wrong.body, "Unauthorized")
      const missing = yield* postRpc(herald.server.url, undefined, notifyRequest([item]))
      assert.strictEqual(missing.status, 401)
      assert.strictEqual(yield* storedFor(herald.databaseUrl, "b-key"), 0)
    }))

  it.effect("the typed client reports a wrong key as Unauthorized", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const client = yield* Layer.build(HeraldClient.layer({ url: herald.server.url, apiKey: "wrong" })).pipe(
        Effect.map(Context.get(HeraldClient))
      )
      const error = yield* Effect.flip(client.notify({ userId: "b-key2", kind: "mention", title: "x" }))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual(yield* storedFor(herald.databaseUrl, "b-key2"), 0)
    }).pipe(Effect.scoped))

  it.effect("a schema-invalid payload sent over HTTP is refused naming the field, and no item of the batch is stored", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const response = yield* postRpc(
        herald.server.url,
        apiKey,
        notifyRequest([
          { userId: "b-raw", kind: "mention", title: "valid" },
          { userId: "b-raw", kind: "shout", title: "invalid kind" }
        ])
      )
      assert.strictEqual(response.status, 200)
      assert.include(response.body, "\"Die\"")
      assert.include(response.body, "[\\\"items\\\"][1][\\\"kind\\\"]")
      assert.strictEqual(yield* storedFor(herald.databaseUrl, "b-raw"), 0)
    }))

  it.effect("the typed client refuses bad fields with InvalidRequest naming the field", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const cases = [
        [{ userId: "b-typed", kind: "mention", title: "" }, "items[0].title"],
        [{ userId: "has space", kind: "mention", title: "x" }, "items[0].userId"],
        [{ userId: "b-typed", kind: "mention", title: "x", link: "javascript:alert(1)" }, "items[0].link"],
        [{ userId: "b-typed", kind: "mention", title: "x".repeat(201) }, "items[0].title"]
      ] as const
      for (const [item, path] of cases) {
        const error = yield* Effect.flip(herald.client.notify(item))
        assert.strictEqual(error._tag, "InvalidRequest")
        if (error._tag === "InvalidRequest") assert.strictEqual(error.path, path)
      }
      const inbox = yield* Effect.flip(herald.client.listInbox({ userId: "b-typed", limit: 1000 }))
      assert.strictEqual(inbox._tag, "InvalidRequest")
      if (inbox._tag === "InvalidRequest") assert.strictEqual(inbox.path, "limit")
      assert.strictEqual(yield* storedFor(herald.databaseUrl, "b-typed"), 0)
    }))

  it.effect("an empty batch and a batch over 500 items are refused", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const empty = yield* Effect.flip(herald.client.notifyBatch([]))
      assert.strictEqual(empty._tag, "InvalidRequest")
      const tooMany = yield* postRpc(
        herald.server.url,
        apiKey,
        notifyRequest(Array.from({ length: 501 }, (_, i) => ({ userId: "b-big", kind: "mention", title: `${i}` })))
      )
      assert.include(tooMany.body, "\"Die\"")
      assert.strictEqual(yield* storedFor(herald.databaseUrl, "b-big"), 0)
    }))

  it.effect("unknown routes answer 404 and probes answer", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const status = (path: string) => Effect.promise(() => fetch(`${herald.server.url}${path}`).then((r) => r.status))
      assert.strictEqual(yield* status("/healthz"), 200)
      assert.strictEqual(yield* status("/readyz"), 200)
      assert.strictEqual(yield* status("/nope"), 404)
      assert.strictEqual(yield* status("/rpc"), 405)
    }))
})
