/**
 * Every admin RPC (the CLI's rollout, replay, dead-letter, digest, stats and
 * user commands) needs the admin key: the app key, no key and a wrong key
 * are refused with 401 before any handler runs, while the admin key reaches
 * the handlers. The list comes from the RPC group itself, so an RPC added
 * later is covered without touching this test.
 */
import { assert, layer } from "@effect/vitest"
import { AdminRpcs } from "@herald/domain"
import { Effect } from "effect"
import { Herald } from "../support/Herald.ts"
import { adminKey, apiKey } from "../support/TestServer.ts"

const postAdmin = (url: string, key: string | undefined, tag: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/rpc/admin`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
      // An empty payload: what matters is who may call, not what is asked.
      body: JSON.stringify({ _tag: "Request", id: "1", tag, payload: {}, headers: [] })
    })
    return { status: response.status, body: await response.text() }
  })

const tags = [...AdminRpcs.AdminRpcs.requests.keys()]

layer(Herald.layer(), { excludeTestServices: true, timeout: "60 seconds" })("admin authorisation", (it) => {
  it.effect("the app key, no key and a wrong key are refused on every admin RPC; the admin key gets through", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      assert.includeMembers(tags, ["PlanReplay", "ReplayPage", "RetryDeadLetters", "ChangeRollout", "GetStats"])
      for (const tag of tags) {
        for (const key of [apiKey, undefined, "not-a-key"]) {
          const refused = yield* postAdmin(herald.server.url, key, tag)
          assert.strictEqual(refused.status, 401, `${tag} with ${key ?? "no key"}`)
          assert.include(refused.body, "admin key")
        }
        const allowed = yield* postAdmin(herald.server.url, adminKey, tag)
        assert.strictEqual(allowed.status, 200, `${tag} with the admin key reaches the RPC server`)
      }
    }))
})
