/**
 * Cluster-wide delivery stats: two nodes on one database and one Redis, with
 * sockets on both receiving notifications; `GetStats` asked of either node
 * answers the sum of both (sessions, in-app frames, their latency
 * histogram, email deliveries), and says two nodes reported.
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import type { DeliveryStats } from "@herald/domain"
import { Context, Effect, Layer } from "effect"
import { eventually } from "../support/eventually.ts"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { makeScriptedChannels } from "../support/ScriptedChannels.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const RedisUrl = process.env["HERALD_TEST_REDIS"] ?? "redis://127.0.0.1:6379"

it.live("GetStats on either node answers the same cluster-wide sums", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const channels = makeScriptedChannels()
    const options = { databaseUrl: database.url, redisUrl: RedisUrl, channels: channels.layer, deliveryPoll: "100 millis" } as const
    const a = yield* testServer(options)
    const b = yield* testServer(options)
    const client = yield* Layer.build(HeraldClient.layer({ url: a.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const admin = (url: string) =>
      Layer.build(HeraldAdminClient.layer({ url, adminKey })).pipe(Effect.map(Context.get(HeraldAdminClient)))
    const admins = [yield* admin(a.url), yield* admin(b.url)]

    const run = Date.now().toString(36)
    const onA = `cs-a-${run}`
    const onB = `cs-b-${run}`
    yield* client.updatePreferences(onB, { emailAddress: `${onB}@example.com`, kinds: { mention: { email: "immediate" } } })
    const connect = (wsUrl: string, userId: string) =>
      Effect.gen(function*() {
        const socket = yield* openRaw(wsUrl)
        yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken(userId)).token })
        yield* socket.until("synced")
        return socket
      })
    const socketA = yield* connect(a.wsUrl, onA)
    const socketB = yield* connect(b.wsUrl, onB)

    // Published through node a: 3 frames written by node a, 2 by node b (its socket).
    for (let i = 0; i < 3; i++) yield* client.notify({ userId: onA, kind: "mention", title: `a ${i}` })
    for (let i = 0; i < 2; i++) yield* client.notify({ userId: onB, kind: "mention", title: `b ${i}` })
    for (let i = 0; i < 3; i++) assert.strictEqual(titleOf(yield* socketA.next()), `a ${i}`)
    for (let i = 0; i < 2; i++) assert.strictEqual(titleOf(yield* socketB.next()), `b ${i}`)

    const emailed = yield* eventually(
      query<{ sent: number }>(database.url, "SELECT count(*)::int AS sent FROM deliveries WHERE channel = 'email' AND state = 'sent'"),
      (rows) => (rows[0]?.sent ?? 0) > 0
    )
    const emailsSent = emailed[0]?.sent ?? 0
    assert.isAbove(emailsSent, 0, "the user on node b has an email address")

    const settled = (s: DeliveryStats) =>
      s.nodes === 2 && s.sockets.sessions === 2 && s.inAppDelivered === 5 && s.emailsSent === emailsSent
    // Each node writes its stats every 2 s; until then the other node's part is missing.
    const [fromA, fromB] = yield* Effect.forEach(admins, (node) =>
      eventually(node.getStats("1m"), settled, { times: 100, every: "100 millis" }))
    for (const stats of [fromA, fromB]) {
      assert.isTrue(stats !== undefined && settled(stats), `settled: ${JSON.stringify(stats)}`)
      assert.strictEqual(stats?.latency.in_app.count, 5)
      assert.isNotNull(stats?.latency.in_app.p95 ?? null)
      assert.strictEqual(stats?.sockets.errors, 0)
      assert.strictEqual(stats?.sockets.errorRate, 0)
      assert.strictEqual(stats?.sockets.reconnectionRate, 0)
      assert.strictEqual(stats?.deliveries.email.sent, emailsSent)
      assert.strictEqual(stats?.deadLetters, 0)
      assert.strictEqual(stats?.duplicatePushes, 0)
    }
    assert.deepStrictEqual(fromA?.latency, fromB?.latency, "the same merged histogram from both nodes")
    assert.deepStrictEqual(fromA?.sockets, fromB?.sockets)

    // The other windows hold the same events.
    const hour = yield* admins[1]?.getStats("1h") ?? Effect.die("no admin client")
    assert.strictEqual(hour.inAppDelivered, 5)
    assert.strictEqual(hour.window, "1h")
  }).pipe(Effect.scoped), { timeout: 60_000 })
