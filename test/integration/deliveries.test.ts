/**
 * Delivery rows and the worker that drives them: routing by preferences,
 * retries with backoff, dead letters, pruned device tokens, a provider that
 * is down for a while, and a server that dies mid-batch. Sends are answered
 * by scripted channels (see test/support/ScriptedChannels.ts).
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { eventually } from "../support/eventually.ts"
import { makeScriptedChannels, type Script, sent } from "../support/ScriptedChannels.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, freePort, testServer, type TestServerOptions } from "../support/TestServer.ts"

interface Row {
  readonly channel: string
  readonly target: string
  readonly state: string
  readonly attempts: number
  readonly last_error: string | null
}

const rowsOf = (databaseUrl: string, userId: string) =>
  query<Row>(
    databaseUrl,
    "SELECT channel, target, state, attempts, last_error FROM deliveries WHERE user_id = $1 ORDER BY id",
    [userId]
  )

/** A server with scripted channels on a fresh database, and a client for it. */
const setup = (script?: Script, options: Partial<TestServerOptions> = {}) =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const channels = makeScriptedChannels(script)
    const port = yield* freePort
    const serverOptions: TestServerOptions = {
      databaseUrl: database.url,
      port,
      channels: channels.layer,
      retryBase: "20 millis",
      deliveryPoll: "50 millis",
      ...options
    }
    const server = yield* testServer(serverOptions)
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    return { database, channels, client, server, serverOptions }
  })

const userWithDevices = (client: HeraldClient["Service"], userId: string, tokens: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    for (const token of tokens) yield* client.registerDevice(userId, token, "android")
    yield* client.updatePreferences(userId, { emailAddress: `${userId}@example.com` })
  })

it.live("deliveries follow preferences: one push row per device, email only when immediate", () =>
  Effect.gen(function*() {
    const { channels, client, database } = yield* setup()
    yield* userWithDevices(client, "dl-route", ["tok-a", "tok-b"])
    yield* client.updatePreferences("dl-route", {
      kinds: { mention: { email: "immediate" }, assignment: { push: false }, status_update: { push: false, email: "off" } }
    })
    const mention = yield* client.notify({ userId: "dl-route", kind: "mention", title: "m" })
    yield* client.notify({ userId: "dl-route", kind: "assignment", title: "a (email in the digest, push off)" })
    yield* client.notify({ userId: "dl-route", kind: "status_update", title: "s (nothing out of app)" })
    const rows = yield* eventually(rowsOf(database.url, "dl-route"), (rows) => rows.length === 3 && rows.every((r) => r.state === "sent"))
    assert.deepStrictEqual(rows.map((r) => [r.channel, r.target, r.state, r.attempts]), [
      ["push", "tok-a", "sent", 1],
      ["push", "tok-b", "sent", 1],
      ["email", "dl-route@example.com", "sent", 1]
    ])
    assert.sameDeepMembers(channels.records().map((r) => [r.channel, r.target, r.notificationId]), [
      ["push", "tok-a", mention.id],
      ["push", "tok-b", mention.id],
      ["email", "dl-route@example.com", mention.id]
    ])
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("a failed send is retried with backoff until it succeeds, and sent once", () =>
  Effect.gen(function*() {
    const { channels, client, database } = yield* setup(({ attempt }) =>
      Effect.succeed(attempt < 3 ? { _tag: "Retry", reason: `503 on attempt ${attempt}` } : sent)
    )
    yield* client.registerDevice("dl-retry", "tok-r", "ios")
    yield* client.notify({ userId: "dl-retry", kind: "mention", title: "eventually" })
    const rows = yield* eventually(rowsOf(database.url, "dl-retry"), (rows) => rows[0]?.state === "sent")
    assert.deepStrictEqual(rows.map((r) => [r.state, r.attempts]), [["sent", 3]])
    assert.strictEqual(channels.records().length, 1)
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("after the last attempt a delivery is a dead letter with its last error", () =>
  Effect.gen(function*() {
    const { channels, client, database, server } = yield* setup(
      ({ attempt }) => Effect.succeed({ _tag: "Retry", reason: `provider said no (${attempt})` }),
      { maxAttempts: 3 }
    )
    yield* client.registerDevice("dl-dead", "tok-d", "web")
    yield* client.notify({ userId: "dl-dead", kind: "mention", title: "never" })
    const rows = yield* eventually(rowsOf(database.url, "dl-dead"), (rows) => rows[0]?.state === "dead")
    assert.deepStrictEqual(rows.map((r) => [r.state, r.attempts, r.last_error]), [["dead", 3, "provider said no (3)"]])
    assert.strictEqual(channels.records().length, 0)

    const admin = yield* Layer.build(HeraldAdminClient.layer({ url: server.url, adminKey })).pipe(
      Effect.map(Context.get(HeraldAdminClient))
    )
    const dead = yield* admin.listDeadLetters({ userId: "dl-dead" })
    assert.deepStrictEqual(dead.map((d) => [d.channel, d.target, d.attempts, d.lastError, d.title]), [
      ["push", "tok-d", 3, "provider said no (3)", "never"]
    ])
    assert.deepStrictEqual(yield* admin.listDeadLetters({ channel: "email" }), [])
    const withAppKey = yield* Layer.build(HeraldAdminClient.layer({ url: server.url, adminKey: apiKey })).pipe(
      Effect.map(Context.get(HeraldAdminClient))
    )
    const refused = yield* Effect.flip(withAppKey.listDeadLetters({}))
    assert.strictEqual(refused._tag, "Unauthorized", "the app key cannot read dead letters")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("a token the provider reports unregistered is removed at once and its delivery discarded", () =>
  Effect.gen(function*() {
    const { client, database } = yield* setup(({ target }) =>
      Effect.succeed(target === "tok-gone" ? { _tag: "Discard", reason: "UNREGISTERED" } : sent)
    )
    yield* client.registerDevice("dl-prune", "tok-gone", "android")
    yield* client.registerDevice("dl-prune", "tok-live", "android")
    yield* client.notify({ userId: "dl-prune", kind: "mention", title: "prune" })
    const rows = yield* eventually(rowsOf(database.url, "dl-prune"), (rows) => rows.every((r) => r.state !== "pending" && r.state !== "sending"))
    assert.deepStrictEqual(rows.map((r) => [r.target, r.state]), [["tok-gone", "discarded"], ["tok-live", "sent"]])
    assert.deepStrictEqual((yield* client.listDevices("dl-prune")).map((d) => d.token), ["tok-live"])
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("a provider down for a while: every pending delivery drains once it is back, none twice", () =>
  Effect.gen(function*() {
    let down = true
    const { channels, client, database } = yield* setup(() =>
      Effect.succeed(down ? { _tag: "Retry", reason: "UNAVAILABLE" } : sent),
      { maxAttempts: 1000 }
    )
    yield* client.registerDevice("dl-outage", "tok-o", "android")
    const published = yield* Effect.forEach(
      Array.from({ length: 40 }, (_, i) => i),
      (i) => client.notify({ userId: "dl-outage", kind: "mention", title: `n${i}` })
    )
    // Let the outage last until the provider's circuit opens: rows then go back to the queue
    // without calling the provider at all.
    yield* eventually(rowsOf(database.url, "dl-outage"), (rows) => rows.length === 40 && rows.every((r) => r.attempts >= 1 && r.state === "failed"))
    const whileOpen = yield* eventually(
      rowsOf(database.url, "dl-outage"),
      (rows) => rows.some((r) => r.last_error === "fcm circuit open"),
      { times: 200 }
    )
    assert.isTrue(whileOpen.some((r) => r.last_error === "fcm circuit open"), "the circuit breaker stops calls to a failing provider")
    down = false
    const rows = yield* eventually(
      rowsOf(database.url, "dl-outage"),
      (rows) => rows.every((r) => r.state === "sent"),
      { times: 400 }
    )
    assert.strictEqual(rows.length, 40)
    const sentIds = channels.records().map((r) => r.notificationId)
    assert.strictEqual(sentIds.length, 40)
    assert.sameMembers(sentIds, published.map((p) => p.id))
  }).pipe(Effect.scoped), { timeout: 90_000 })

it.live("a server that dies mid-batch: after restart every delivery is sent, none twice", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const port = yield* freePort
    // The first server's provider accepts 5 sends, then never answers: the server dies with sends in flight.
    let accepted = 0
    const first = makeScriptedChannels(() => accepted < 5 ? Effect.sync(() => (accepted++, sent)) : Effect.never)
    const options: TestServerOptions = {
      databaseUrl: database.url,
      port,
      retryBase: "20 millis",
      deliveryPoll: "50 millis",
      deliveryLease: "1 second"
    }
    const firstScope = yield* Scope.make()
    const server = yield* testServer({ ...options, channels: first.layer }).pipe(Scope.provide(firstScope))
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    yield* client.registerDevice("dl-crash", "tok-c", "android")
    const published = yield* Effect.forEach(
      Array.from({ length: 20 }, (_, i) => i),
      (i) => client.notify({ userId: "dl-crash", kind: "mention", title: `c${i}` })
    )
    yield* eventually(rowsOf(database.url, "dl-crash"), (rows) => rows.filter((r) => r.state === "sending").length > 0 && accepted === 5)
    yield* Scope.close(firstScope, Exit.void)
    const inFlight = (yield* rowsOf(database.url, "dl-crash")).filter((r) => r.state === "sending").length
    assert.isAbove(inFlight, 0, "the server died with sends in flight")

    const second = makeScriptedChannels()
    yield* testServer({ ...options, channels: second.layer })
    const rows = yield* eventually(rowsOf(database.url, "dl-crash"), (rows) => rows.every((r) => r.state === "sent"), { times: 400 })
    assert.strictEqual(rows.length, 20)
    const sentIds = [...first.records(), ...second.records()].map((r) => r.notificationId)
    assert.strictEqual(sentIds.length, 20, "no delivery sent twice")
    assert.sameMembers(sentIds, published.map((p) => p.id), "no delivery lost")
  }).pipe(Effect.scoped), { timeout: 90_000 })
