/**
 * API keys: several valid at once (rotation without downtime), keys given
 * as SHA-256 digests so the server's environment need not hold them, and a
 * malformed list refused at start naming the variable and the entry, never
 * echoing a key.
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { HeraldClient } from "@herald/client/HeraldClient"
import { parseKeyList } from "@herald/server/gateway/ApiKeys"
import { Context, Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { testDatabase } from "../support/TestDatabase.ts"
import { testServer } from "../support/TestServer.ts"

const sha256 = (key: string) => `sha256:${createHash("sha256").update(key).digest("hex")}`

const postRpc = (url: string, path: string, key: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ _tag: "Request", id: "1", tag: "GetRollout", payload: {}, headers: [] })
    })
    return response.status
  })

it.live("during a rotation the old and the new key both work, hashed entries work, and anything else is refused", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const server = yield* testServer({
      databaseUrl: database.url,
      apiKey: `app-key-old-0001,${sha256("app-key-new-0002")}`,
      adminKey: `${sha256("admin-key-rotated-01")},admin-key-plain-02`
    })
    for (const key of ["app-key-old-0001", "app-key-new-0002"]) {
      const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey: key })).pipe(Effect.map(Context.get(HeraldClient)))
      const result = yield* client.notify({ userId: "rotation-user", kind: "mention", title: `with ${key}` })
      assert.isFalse(result.deduplicated)
    }
    for (const key of ["admin-key-rotated-01", "admin-key-plain-02"]) {
      const admin = yield* Layer.build(HeraldAdminClient.layer({ url: server.url, adminKey: key })).pipe(
        Effect.map(Context.get(HeraldAdminClient))
      )
      const status = yield* admin.getRollout()
      assert.isAtLeast(status.state.percentage, 0)
    }
    // The digest itself is not a key, an app key is not an admin key, and a near miss is nothing.
    assert.strictEqual(yield* postRpc(server.url, "/rpc", sha256("app-key-new-0002")), 401)
    assert.strictEqual(yield* postRpc(server.url, "/rpc/admin", "app-key-old-0001"), 401)
    assert.strictEqual(yield* postRpc(server.url, "/rpc", "app-key-old-0002"), 401)
    assert.strictEqual(yield* postRpc(server.url, "/rpc/admin", "admin-key-plain-02"), 200)
  }), { timeout: 60_000 })

it("a malformed key list is refused naming the variable and the entry, without the key", () => {
  const digest = createHash("sha256").update("some-key-1234").digest()
  const parsed = parseKeyList("HERALD_API_KEY", `some-key-1234,${sha256("other-key-5678")}`)
  assert.isArray(parsed)
  if (typeof parsed === "string") return
  assert.strictEqual(parsed.length, 2)
  assert.isTrue(parsed[0]!.equals(digest))
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["first-key-1234,,second-key-5678", "HERALD_API_KEY entry 2 of 3 is empty"],
    ["short", "HERALD_API_KEY entry 1 of 1 is shorter than 8 characters"],
    ["sha256:abc", "HERALD_API_KEY entry 1 of 1 starts with sha256: but is not 64 hex digits"],
    ["good-key-1234,bad key 5678", "HERALD_API_KEY entry 2 of 2 contains whitespace"]
  ]
  for (const [list, message] of cases) {
    const refused = parseKeyList("HERALD_API_KEY", list)
    assert.isString(refused)
    assert.include(String(refused), message)
    assert.notInclude(String(refused), "5678")
  }
})
