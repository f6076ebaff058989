/**
 * The rollout flag end to end through a real server: users outside the
 * rollout or under the kill switch get email only, nothing on sockets or
 * push, with their inbox kept; the guard trips the kill switch by itself on
 * injected delivery latency, a duplicate push and a lost notification; a
 * vendor's OpenFeature provider can replace Herald's by configuration.
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import { Context, Duration, Effect, Layer } from "effect"
import { fileURLToPath } from "node:url"
import { eventually } from "../support/eventually.ts"
import { privateRedis } from "../support/PrivateRedis.ts"
import { openRaw, type RawSocket } from "../support/RawSocket.ts"
import { makeScriptedChannels } from "../support/ScriptedChannels.ts"
import { tcpProxy } from "../support/TcpProxy.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer, type TestServerOptions } from "../support/TestServer.ts"

const setup = (options: Partial<TestServerOptions> = {}) =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const channels = makeScriptedChannels()
    const server = yield* testServer({
      databaseUrl: database.url,
      channels: channels.layer,
      deliveryPoll: "100 millis",
      ...options
    })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const admin = yield* Layer.build(HeraldAdminClient.layer({ url: server.url, adminKey })).pipe(
      Effect.map(Context.get(HeraldAdminClient))
    )
    const connect = (userId: string) =>
      Effect.gen(function*() {
        const socket = yield* openRaw(server.wsUrl)
        yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken(userId)).token })
        yield* socket.until("synced")
        return socket
      })
    return { database, channels, server, client, admin, connect }
  })

const titleOf = (socket: RawSocket) =>
  Effect.map(socket.next("10 seconds"), (frame) => {
    const notification = frame["notification"]
    return typeof notification === "object" && notification !== null && "title" in notification ? String(notification.title) : frame.type
  })

/** A user with an email address and a push device, so every channel could be used. */
const reachable = (client: HeraldClient["Service"], userId: string) =>
  Effect.gen(function*() {
    yield* client.updatePreferences(userId, { emailAddress: `${userId}@example.com` })
    yield* client.registerDevice(userId, `${userId}-phone`, "android")
  })

it.live("the kill switch: the next notification goes by email only, nothing to sockets or push, and the inbox keeps it; resume brings real-time back", () =>
  Effect.gen(function*() {
    const { admin, channels, client, connect } = yield* setup()
    yield* reachable(client, "ks-user")
    const socket = yield* connect("ks-user")

    const before = yield* client.notify({ userId: "ks-user", kind: "mention", title: "before" })
    assert.strictEqual(yield* titleOf(socket), "before")
    yield* eventually(Effect.sync(channels.records), (r) => r.some((s) => s.notificationId === before.id && s.channel === "push"))

    const killed = yield* admin.changeRollout({ action: "kill", actor: "test@ci", reason: "drill" })
    assert.isTrue(killed.killed)
    const during = yield* client.notify({ userId: "ks-user", kind: "mention", title: "during" })
    const sentDuring = yield* eventually(
      Effect.sync(() => channels.records().filter((s) => s.notificationId === during.id)),
      (sends) => sends.length > 0
    )
    assert.deepStrictEqual(sentDuring.map((s) => s.channel), ["email"], "email only")

    yield* admin.changeRollout({ action: "resume", actor: "test@ci" })
    yield* client.notify({ userId: "ks-user", kind: "mention", title: "after" })
    assert.strictEqual(yield* titleOf(socket), "after", "the killed one never reached the socket")
    const inbox = yield* client.listInbox({ userId: "ks-user" })
    assert.deepStrictEqual(inbox.items.map((n) => n.title), ["after", "during", "before"], "the history is kept")
    assert.isFalse(channels.records().some((s) => s.notificationId === during.id && s.channel === "push"))

    const history = yield* admin.rolloutHistory(10)
    assert.deepStrictEqual(history.map((change) => [change.action, change.actor]), [["resume", "test@ci"], ["kill", "test@ci"]])
    assert.strictEqual(history[1]?.reason, "drill")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("percentage and lists: at 0 % only allowed users are real-time; a denied user is out even at 100 %", () =>
  Effect.gen(function*() {
    const { admin, channels, client, connect } = yield* setup()
    for (const user of ["pl-allowed", "pl-other", "pl-denied"]) yield* reachable(client, user)
    yield* admin.changeRollout({ action: "set", percentage: 0, actor: "test@ci" })
    yield* admin.changeRollout({ action: "allow", userId: "pl-allowed", actor: "test@ci" })
    const allowed = yield* connect("pl-allowed")
    yield* client.notify({ userId: "pl-allowed", kind: "mention", title: "for the allowed" })
    assert.strictEqual(yield* titleOf(allowed), "for the allowed")
    const other = yield* client.notify({ userId: "pl-other", kind: "mention", title: "for the other" })
    const otherSends = yield* eventually(
      Effect.sync(() => channels.records().filter((s) => s.notificationId === other.id)),
      (sends) => sends.length > 0
    )
    assert.deepStrictEqual(otherSends.map((s) => s.channel), ["email"])

    yield* admin.changeRollout({ action: "set", percentage: 100, actor: "test@ci" })
    yield* admin.changeRollout({ action: "deny", userId: "pl-denied", actor: "test@ci" })
    const denied = yield* client.notify({ userId: "pl-denied", kind: "mention", title: "for the denied" })
    const deniedSends = yield* eventually(
      Effect.sync(() => channels.records().filter((s) => s.notificationId === denied.id)),
      (sends) => sends.length > 0
    )
    assert.deepStrictEqual(deniedSends.map((s) => s.channel), ["email"])

    const status = yield* admin.getRollout()
    assert.strictEqual(status.state.percentage, 100)
    assert.deepStrictEqual(status.state.deny.map(String), ["pl-denied"])
    assert.strictEqual(status.users.known, 3)
    assert.strictEqual(status.users.enabled, 2)
    assert.strictEqual(status.provider, "herald")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("the guard trips the kill switch when delivery latency is injected (Redis 2.5 s away), recording the trigger and its value", () =>
  Effect.gen(function*() {
    const redis = yield* privateRedis
    const slow = yield* tcpProxy({ host: "127.0.0.1", port: redis.port })
    const { admin, client, connect } = yield* setup({
      redisUrl: `redis://127.0.0.1:${slow.port}`,
      guard: { window: Duration.seconds(20), minSamples: 10 }
    })
    const socket = yield* connect("lat-user")
    yield* client.notify({ userId: "lat-user", kind: "mention", title: "fast" })
    assert.strictEqual(yield* titleOf(socket), "fast")
    assert.isFalse((yield* admin.getRollout()).state.killed)

    yield* slow.setLatency(2_500)
    for (let i = 0; i < 12; i++) yield* client.notify({ userId: "lat-user", kind: "mention", title: `slow ${i}` })
    const tripped = yield* eventually(admin.getRollout(), (status) => status.state.killed, { times: 200, every: "100 millis" })
    assert.isTrue(tripped.state.killed, "the guard tripped the kill switch")
    const trigger = tripped.guard.triggers.find((t) => t.name === "delivery_p95")
    assert.strictEqual(trigger?.status, "fail")
    assert.isAbove(trigger?.value ?? 0, 2_000)
    const [change] = yield* admin.rolloutHistory(1)
    assert.strictEqual(change?.actor, "guard")
    assert.strictEqual(change?.action, "kill")
    assert.include(change?.reason ?? "", "delivery_p95")
  }).pipe(Effect.scoped), { timeout: 90_000 })

it.live("the guard trips when sockets end in errors (connections dropped without a close frame)", () =>
  Effect.gen(function*() {
    const { admin, connect } = yield* setup({ guard: { window: Duration.seconds(30), minSamples: 10 } })
    const sockets = yield* Effect.forEach(Array.from({ length: 10 }, (_, i) => `err-user-${i}`), connect)
    assert.isFalse((yield* admin.getRollout()).state.killed)
    for (const socket of sockets.slice(0, 2)) yield* socket.terminate
    const tripped = yield* eventually(admin.getRollout(), (status) => status.state.killed, { times: 100, every: "100 millis" })
    assert.isTrue(tripped.state.killed)
    const trigger = tripped.guard.triggers.find((t) => t.name === "socket_error_rate")
    assert.strictEqual(trigger?.status, "fail")
    assert.approximately(trigger?.value ?? 0, 0.2, 0.001, "2 of 10 sessions")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("the guard trips on a duplicate push send (a delivery sent, then claimed and sent again)", () =>
  Effect.gen(function*() {
    const { admin, channels, client, database } = yield* setup()
    yield* client.registerDevice("dup-user", "dup-phone", "android")
    const sent = yield* client.notify({ userId: "dup-user", kind: "mention", title: "once" })
    yield* eventually(
      query<{ state: string }>(database.url, "SELECT state FROM deliveries WHERE notification_id = $1", [sent.id]),
      (rows) => rows[0]?.state === "sent"
    )
    // What a second worker taking over a live claim would do: the same row goes out again.
    yield* query(database.url, "UPDATE deliveries SET state = 'pending', next_attempt_at = now() WHERE notification_id = $1", [sent.id])
    const tripped = yield* eventually(admin.getRollout(), (status) => status.state.killed, { times: 100, every: "100 millis" })
    assert.isTrue(tripped.state.killed)
    assert.strictEqual(channels.records().filter((s) => s.notificationId === sent.id && s.channel === "push").length, 2)
    const [change] = yield* admin.rolloutHistory(1)
    assert.strictEqual(change?.actor, "guard")
    assert.include(change?.reason ?? "", "duplicate_push 1")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("the guard trips when an accepted notification is missing from the store", () =>
  Effect.gen(function*() {
    const { admin, client, database } = yield* setup()
    const sent = yield* client.notify({ userId: "loss-user", kind: "mention", title: "vanishing" })
    yield* query(database.url, "DELETE FROM notifications WHERE id = $1", [sent.id])
    const tripped = yield* eventually(admin.getRollout(), (status) => status.state.killed, { times: 100, every: "100 millis" })
    assert.isTrue(tripped.state.killed)
    const [change] = yield* admin.rolloutHistory(1)
    assert.include(change?.reason ?? "", "data_loss 1")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("HERALD_FLAG_PROVIDER swaps in another OpenFeature provider; the kill switch still wins over it", () =>
  Effect.gen(function*() {
    const vendor = fileURLToPath(new URL("../support/VendorFlagProvider.ts", import.meta.url))
    const { admin, channels, client, connect } = yield* setup({ flagProvider: vendor })
    for (const user of ["vendor-in-1", "vendor-out-1"]) yield* reachable(client, user)
    const inSocket = yield* connect("vendor-in-1")
    yield* client.notify({ userId: "vendor-in-1", kind: "mention", title: "vendor says in" })
    assert.strictEqual(yield* titleOf(inSocket), "vendor says in")
    const out = yield* client.notify({ userId: "vendor-out-1", kind: "mention", title: "vendor says out" })
    const outSends = yield* eventually(
      Effect.sync(() => channels.records().filter((s) => s.notificationId === out.id)),
      (sends) => sends.length > 0
    )
    assert.deepStrictEqual(outSends.map((s) => s.channel), ["email"])
    assert.strictEqual((yield* admin.getRollout()).provider, "in-memory")

    yield* admin.changeRollout({ action: "kill", actor: "test@ci" })
    const killed = yield* client.notify({ userId: "vendor-in-1", kind: "mention", title: "killed" })
    const killedSends = yield* eventually(
      Effect.sync(() => channels.records().filter((s) => s.notificationId === killed.id)),
      (sends) => sends.length > 0
    )
    assert.deepStrictEqual(killedSends.map((s) => s.channel), ["email"])
  }).pipe(Effect.scoped), { timeout: 60_000 })
