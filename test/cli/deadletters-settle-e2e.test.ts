/**
 * `herald deadletters retry` and `drop` as maintainers run them, against a
 * real server: a provider outage leaves dead pushes; a dry run counts them
 * and changes nothing; a retry sends each exactly once through the normal
 * path, and a second retry finds nothing; a drop discards with the reason;
 * the app key is refused.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { eventually } from "../support/eventually.ts"
import { lines, runCli } from "../support/HeraldCli.ts"
import { makeScriptedChannels, sent } from "../support/ScriptedChannels.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const Dead = 300

const states = (url: string) =>
  query<{ state: string; n: number }>(url, "SELECT state, count(*)::int AS n FROM deliveries GROUP BY state ORDER BY state").pipe(
    Effect.map((rows) => Object.fromEntries(rows.map((row) => [row.state, row.n])))
  )

it.live("dead pushes after an outage: dry run changes nothing, retry sends each once, a second retry nothing, drop discards", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    // The provider refuses every push for good while it is "down".
    const channels = makeScriptedChannels(() => Effect.succeed({ _tag: "Fail", reason: "provider outage" }))
    const server = yield* testServer({ databaseUrl: database.url, channels: channels.layer, deliveryPoll: "100 millis" })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    yield* client.registerDevice("dl-user", "dl-phone", "android")
    yield* client.registerDevice("dl-other", "dl-other-phone", "android")
    for (let i = 0; i < Dead; i++) yield* client.notify({ userId: "dl-user", kind: "mention", title: `n${i}` })
    yield* client.notify({ userId: "dl-other", kind: "mention", title: "other" })
    yield* eventually(states(database.url), (s) => s["dead"] === Dead + 1, { times: 200, every: "100 millis" })
    const admin = (...args: ReadonlyArray<string>) => runCli(["deadletters", ...args, "--url", server.url, "--admin-key", adminKey])

    const dry = yield* admin("retry", "--user", "dl-user", "--limit", "100000", "--dry-run", "--json")
    assert.strictEqual(dry.code, 0, dry.stderr)
    assert.deepStrictEqual(JSON.parse(lines(dry.stdout)[0] ?? "{}"), { selected: Dead, changed: 0, dryRun: true })
    assert.deepStrictEqual(yield* states(database.url), { dead: Dead + 1 }, "a dry run changes nothing")

    // The provider is back: retry goes through the normal path, each push exactly once.
    channels.setScript(() => Effect.succeed(sent))
    const retried = yield* admin("retry", "--user", "dl-user", "--limit", "100000")
    assert.strictEqual(retried.code, 0, retried.stderr)
    assert.strictEqual(retried.stdout.trim(), `retried ${Dead} dead letters`)
    yield* eventually(states(database.url), (s) => s["sent"] === Dead, { times: 300, every: "100 millis" })
    const pushes = channels.records().filter((r) => r.channel === "push")
    assert.strictEqual(pushes.length, Dead)
    assert.strictEqual(new Set(pushes.map((r) => r.notificationId)).size, Dead, "each notification pushed once")
    const again = yield* admin("retry", "--user", "dl-user", "--json")
    assert.deepStrictEqual(JSON.parse(lines(again.stdout)[0] ?? "{}"), { selected: 0, changed: 0, dryRun: false })

    const dropped = yield* admin("drop", "--user", "dl-other", "--reason", "account deleted")
    assert.strictEqual(dropped.stdout.trim(), "dropped 1 dead letter")
    const [row] = yield* query<{ state: string; last_error: string }>(database.url, "SELECT state, last_error FROM deliveries WHERE user_id = 'dl-other'")
    assert.deepStrictEqual(row, { state: "discarded", last_error: "dropped: account deleted" })
    const listed = yield* admin("list", "--json")
    assert.strictEqual(listed.stdout, "", "no dead letters left")

    const refused = yield* runCli(["deadletters", "retry", "--url", server.url, "--admin-key", apiKey])
    assert.strictEqual(refused.code, 1, "the app key is refused")
    assert.include(refused.stderr, "admin key")
  }).pipe(Effect.scoped), { timeout: 120_000 })
