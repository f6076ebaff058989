/**
 * FCM accepting connections but never answering (a provider outage that
 * looks like a hang, the worst kind): each send gives up after the send
 * timeout and is retried from its delivery row; in-app delivery of the same
 * notifications does not wait for it; once FCM answers again every push
 * goes out exactly once (a request that timed out was never answered, so it
 * never counts as sent). Real firebase-admin against the fake FCM endpoint.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client/HeraldClient"
import { ChannelsLive } from "@herald/server/channels/ChannelsLive"
import { EmailSender } from "@herald/server/channels/email/EmailSender"
import { PushSender } from "@herald/server/channels/push/PushSender"
import { Context, Duration, Effect, Layer, Option, References } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { eventually } from "../support/eventually.ts"
import { anyToken, makeFakeFcm, makeServiceAccount } from "../support/FakeFcm.ts"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { apiKey, testServer } from "../support/TestServer.ts"

const Total = 5

it.live("a hanging FCM: sends time out and are retried, sockets are not held up, and every push goes out once when FCM is back", () =>
  Effect.gen(function*() {
    const account = makeServiceAccount("herald-hang")
    const fcm = yield* makeFakeFcm({ serviceAccountKey: account.publicKey })
    const dir = mkdtempSync(join(tmpdir(), "herald-hang-"))
    writeFileSync(join(dir, "service-account.json"), account.json)
    const push = PushSender.layerWith({
      projectId: "herald-hang",
      credentialsFile: join(dir, "service-account.json"),
      endpoint: Option.some({ url: new URL(fcm.url), insecure: true }),
      sendTimeout: Duration.millis(500)
    })
    const channels = ChannelsLive.pipe(Layer.provide(Layer.mergeAll(push, EmailSender.layer)))
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url, channels, retryBase: "100 millis", deliveryPoll: "100 millis" }).pipe(
      Effect.provideService(References.MinimumLogLevel, "Error")
    )
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    yield* client.registerDevice("hang-user", "fcm-hang", "android")
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("hang-user")).token })
    yield* socket.until("synced")

    fcm.failNext(anyToken, "HANG", { times: 1_000_000 })
    const published = yield* Effect.forEach(Array.from({ length: Total }, (_, i) => i), (i) =>
      client.notify({ userId: "hang-user", kind: "mention", title: `n${i}` }))
    // In-app first: every frame arrives while FCM has accepted nothing.
    const titles: Array<string> = []
    while (titles.length < Total) {
      const frame = yield* socket.next()
      if (frame.type === "notification") titles.push(titleOf(frame))
    }
    assert.deepStrictEqual(titles, published.map((_, i) => `n${i}`))
    assert.strictEqual(fcm.received().length, 0)

    // The worker keeps trying: more than one request per delivery reaches the hanging FCM.
    yield* eventually(Effect.sync(() => fcm.attempts("fcm-hang")), (n) => n >= 2, { times: 200, every: "100 millis" })
    const pending = yield* query<{ state: string; attempts: number; last_error: string | null }>(
      database.url,
      "SELECT state, attempts, last_error FROM deliveries WHERE user_id = 'hang-user'"
    )
    assert.isTrue(pending.every((row) => row.state !== "sent"), "nothing counts as sent while FCM hangs")
    assert.isTrue(pending.some((row) => (row.last_error ?? "").includes("did not answer")), JSON.stringify(pending))

    fcm.clearFailures()
    const rows = yield* eventually(
      query<{ state: string }>(database.url, "SELECT state FROM deliveries WHERE user_id = 'hang-user'"),
      (rows) => rows.length === Total && rows.every((row) => row.state === "sent"),
      { times: 300, every: "100 millis" }
    )
    assert.strictEqual(rows.length, Total)
    const sent = fcm.received().map((message) => message.data["notificationId"])
    assert.strictEqual(sent.length, Total, "each push sent once")
    assert.sameMembers(sent, published.map((p) => p.id))
  }).pipe(Effect.scoped), { timeout: 120_000 })
