/**
 * Push and email end to end through a real server: firebase-admin against
 * the fake FCM (real TLS, OAuth and FCM v1 wire protocol) and the AWS SDK
 * against the SES emulator, configured by environment exactly as a user
 * would (`FCM_*`, `SES_*`).
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer, References } from "effect"
import { eventually } from "../support/eventually.ts"
import { channelsToFakes } from "../support/FakeChannels.ts"
import { makeFakeFcm, makeServiceAccount } from "../support/FakeFcm.ts"
import { SesEmulator } from "../support/SesEmulator.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { apiKey, testServer } from "../support/TestServer.ts"

const ProjectId = "herald-e2e"

/** A server whose channels are configured by environment to reach the local fakes. */
const setup = Effect.gen(function*() {
  const account = makeServiceAccount(ProjectId)
  const fcm = yield* makeFakeFcm({ serviceAccountKey: account.publicKey })
  const ses = yield* SesEmulator.make
  const channels = yield* channelsToFakes({ projectId: ProjectId, serviceAccountJson: account.json, fcmUrl: fcm.url, sesUrl: ses.url })
  const database = yield* testDatabase
  const server = yield* testServer({ databaseUrl: database.url, channels, retryBase: "50 millis", deliveryPoll: "100 millis" }).pipe(
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )
  const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
  return { fcm, ses, database, client }
})

const states = (databaseUrl: string, userId: string) =>
  query<{ channel: string; target: string; state: string }>(
    databaseUrl,
    "SELECT channel, target, state FROM deliveries WHERE user_id = $1 ORDER BY id",
    [userId]
  )

it.live("a notification goes out as one FCM batch to every device and as one SES email with one-click unsubscribe", () =>
  Effect.gen(function*() {
    const { client, database, fcm, ses } = yield* setup
    yield* client.registerDevice("e2e-alice", "fcm-phone", "android")
    yield* client.registerDevice("e2e-alice", "fcm-laptop", "web")
    yield* client.updatePreferences("e2e-alice", { emailAddress: "alice@example.com", kinds: { mention: { email: "immediate" } } })
    const published = yield* client.notify({
      userId: "e2e-alice",
      kind: "mention",
      title: "Bob mentioned you <b>here</b>",
      body: "in #general",
      link: "https://app.example.com/m/9"
    })
    yield* eventually(states(database.url, "e2e-alice"), (rows) => rows.length === 3 && rows.every((r) => r.state === "sent"), { times: 200 })

    const pushes = fcm.received()
    assert.sameMembers(pushes.map((m) => m.token), ["fcm-phone", "fcm-laptop"])
    for (const push of pushes) {
      assert.strictEqual(push.notification?.title, "Bob mentioned you <b>here</b>")
      assert.strictEqual(push.data["notificationId"], published.id)
      assert.strictEqual(push.collapseKey, "mention", "bursts of one kind replace each other on the device")
    }

    const [email] = yield* ses.emails
    assert.isDefined(email)
    assert.deepStrictEqual(email?.destination.to, ["alice@example.com"])
    assert.include(email?.body.html ?? "", "Bob mentioned you &lt;b&gt;here&lt;/b&gt;")
    assert.include(email?.body.html ?? "", "https://app.example.com/m/9")
    const unsubscribe = email?.header("List-Unsubscribe") ?? ""
    assert.match(unsubscribe, /^<http:\/\/herald\.test\/unsubscribe\?t=[\w.-]+>$/)
    assert.strictEqual(email?.header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
  }).pipe(Effect.scoped), { timeout: 90_000 })

it.live("routing follows defaults: a new user gets push and no immediate email; a pre-rollout user gets email and no push", () =>
  Effect.gen(function*() {
    const { client, database, fcm, ses } = yield* setup
    for (const user of ["e2e-new", "e2e-old"]) {
      yield* client.registerDevice(user, `fcm-${user}`, "ios")
      yield* client.updatePreferences(user, { emailAddress: `${user}@example.com` })
    }
    yield* client.updatePreferences("e2e-old", { existingBeforeRollout: true })
    yield* client.notify({ userId: "e2e-new", kind: "assignment", title: "for the new user" })
    yield* client.notify({ userId: "e2e-old", kind: "assignment", title: "for the old user" })
    yield* eventually(
      Effect.all([states(database.url, "e2e-new"), states(database.url, "e2e-old")]),
      ([a, b]) => a.length === 1 && b.length === 1 && [...a, ...b].every((r) => r.state === "sent"),
      { times: 200 }
    )
    assert.deepStrictEqual(fcm.received().map((m) => m.token), ["fcm-e2e-new"])
    assert.deepStrictEqual((yield* ses.emails).map((e) => e.destination.to), [["e2e-old@example.com"]])
  }).pipe(Effect.scoped), { timeout: 90_000 })

it.live("an unregistered token is pruned, a 503 is retried, and FCM down for a while drains every delivery exactly once", () =>
  Effect.gen(function*() {
    const { client, database, fcm } = yield* setup
    yield* client.registerDevice("e2e-bob", "fcm-dead", "android")
    yield* client.registerDevice("e2e-bob", "fcm-live", "android")
    fcm.failNext("fcm-dead", "UNREGISTERED")
    // More 503s in a row than the SDK retries by itself: Herald's own retry has to deliver it.
    fcm.failNext("fcm-live", "UNAVAILABLE", { times: 6 })
    yield* client.notify({ userId: "e2e-bob", kind: "mention", title: "first" })
    yield* eventually(states(database.url, "e2e-bob"), (rows) => rows.every((r) => r.state === "sent" || r.state === "discarded"), { times: 400 })
    assert.deepStrictEqual((yield* states(database.url, "e2e-bob")).map((r) => [r.target, r.state]), [
      ["fcm-dead", "discarded"],
      ["fcm-live", "sent"]
    ])
    assert.deepStrictEqual((yield* client.listDevices("e2e-bob")).map((d) => d.token), ["fcm-live"])

    yield* fcm.setDown(true)
    const during = yield* Effect.forEach([1, 2, 3, 4, 5], (i) => client.notify({ userId: "e2e-bob", kind: "status_update", title: `during ${i}` }))
    yield* eventually(states(database.url, "e2e-bob"), (rows) => rows.filter((r) => r.state === "failed").length === 5, { times: 400 })
    yield* fcm.setDown(false)
    yield* eventually(states(database.url, "e2e-bob"), (rows) => rows.slice(2).every((r) => r.state === "sent"), { times: 600 })
    const received = fcm.received().map((m) => m.data["notificationId"])
    for (const { id } of during) assert.strictEqual(received.filter((r) => r === id).length, 1, "delivered once")
  }).pipe(Effect.scoped), { timeout: 120_000 })
