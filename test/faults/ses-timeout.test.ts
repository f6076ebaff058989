/**
 * SES accepting connections but never answering (the FCM side of this fault
 * is `provider-timeout.test.ts`): each email's send gives up after
 * `RequestTimeout` (20 s, fixed in `EmailSender.ts`), counts as not sent and
 * is retried from its delivery row; the same notifications reach the socket
 * meanwhile; once SES answers again every email goes out exactly once, the
 * held requests included (they never reached SES, so they never count).
 * Real AWS SDK against the SES emulator behind a proxy that holds requests.
 *
 * A push published during the hang goes out while the emails are still
 * held: each channel has its own delivery loop, so a stuck SES holds up only
 * email. The test prints how long that push took.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client/HeraldClient"
import { RequestTimeout } from "@herald/server/channels/email/EmailSender"
import { Context, Duration, Effect, Layer, References } from "effect"
import { eventually } from "../support/eventually.ts"
import { channelsToFakes } from "../support/FakeChannels.ts"
import { makeFakeFcm, makeServiceAccount } from "../support/FakeFcm.ts"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { SesEmulator } from "../support/SesEmulator.ts"
import { stallingProxy } from "../support/StallingProxy.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { apiKey, testServer } from "../support/TestServer.ts"

// Fewer than the worker's 8 concurrent emails (all are held in one round) and fewer than the
// 5 consecutive failures that open SES's circuit (which would only postpone the retries).
const Held = 3
const ProjectId = "herald-ses-hang"

interface Row {
  readonly title: string
  readonly channel: string
  readonly state: string
  readonly attempts: number
  readonly last_error: string | null
}

const rowsOf = (url: string) =>
  query<Row>(
    url,
    `SELECT n.title, d.channel, d.state, d.attempts, d.last_error FROM deliveries d
     JOIN notifications n ON n.id = d.notification_id WHERE d.user_id = 'ses-user' ORDER BY d.id`
  )

it.live("a hanging SES: emails time out and are retried, sockets are not held up, and every email goes out once when SES answers", () =>
  Effect.gen(function*() {
    const ses = yield* SesEmulator.make
    const proxy = yield* stallingProxy({ host: "127.0.0.1", port: Number(new URL(ses.url).port) })
    const account = makeServiceAccount(ProjectId)
    const fcm = yield* makeFakeFcm({ serviceAccountKey: account.publicKey })
    const channels = yield* channelsToFakes({
      projectId: ProjectId,
      serviceAccountJson: account.json,
      fcmUrl: fcm.url,
      sesUrl: `http://127.0.0.1:${proxy.port}`
    })
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url, channels, retryBase: "100 millis", deliveryPoll: "100 millis" }).pipe(
      Effect.provideService(References.MinimumLogLevel, "Error")
    )
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    yield* client.updatePreferences("ses-user", { emailAddress: "ses-user@example.com", kinds: { mention: { email: "immediate" } } })
    yield* client.registerDevice("ses-user", "fcm-ses-user", "android")
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("ses-user")).token })
    yield* socket.until("synced")

    yield* proxy.hang
    const hangStarted = Date.now()
    // One batch: its rows are claimed together, so every email is held in the same round.
    const published = yield* client.notifyBatch(Array.from({ length: Held }, (_, i) => ({
      userId: "ses-user",
      kind: "mention" as const,
      title: `held${i}`,
      idempotencyKey: `held${i}`
    })))
    const titles: Array<string> = []
    while (titles.length < Held) {
      const frame = yield* socket.next()
      if (frame.type === "notification") titles.push(titleOf(frame))
    }
    assert.deepStrictEqual(titles, published.map((_, i) => `held${i}`), "in-app frames arrive in order")
    // Every email request is now sitting unanswered in the hanging SES.
    assert.strictEqual(yield* eventually(Effect.sync(proxy.heldRequests), (n) => n >= Held, { times: 200, every: "50 millis" }), Held)
    assert.lengthOf(yield* ses.emails, 0, "the frames did not wait for SES, which has taken nothing")
    assert.strictEqual(proxy.abandoned(), 0)

    // Published while the email loop waits for SES: its frame comes at once, and so does its push.
    const late = yield* client.notify({ userId: "ses-user", kind: "mention", title: "late", idempotencyKey: "late" })
    const lateFrame = yield* socket.next()
    assert.strictEqual(titleOf(lateFrame), "late")
    const latePublishedAt = Date.now()
    yield* eventually(
      Effect.sync(() => fcm.received().some((m) => m.data["notificationId"] === late.id)),
      (pushed) => pushed,
      { times: 1_200, every: "50 millis" }
    )
    const latePushMs = Date.now() - latePublishedAt
    assert.strictEqual(proxy.abandoned(), 0, "the push went out while every email was still held by SES")
    assert.strictEqual(proxy.heldRequests(), Held)

    // SES answers new connections again; the held requests stay unanswered until the SDK gives up.
    yield* proxy.release
    const rows = yield* eventually(
      rowsOf(database.url),
      (rows) => rows.length === 2 * (Held + 1) && rows.every((row) => row.state === "sent"),
      { times: 600, every: "100 millis" }
    )
    const allSentMs = Date.now() - hangStarted
    assert.strictEqual(proxy.abandoned(), Held, "each held request was given up by the SDK, not answered")
    // Given up by the send timeout, not by a reset: a timer never fires early and load only
    // delays it, so each was held at least RequestTimeout (less the signing and dialling after
    // the timer started, well under a second).
    assert.isAtLeast(Math.min(...proxy.heldMillis()), Duration.toMillis(RequestTimeout) - 1_000, JSON.stringify(proxy.heldMillis()))
    const emails = rows.filter((row) => row.channel === "email")
    assert.deepStrictEqual(emails.map((row) => row.state), ["sent", "sent", "sent", "sent"], JSON.stringify(rows))
    // The held ones took a second attempt; the late one went out on its first.
    assert.deepStrictEqual(emails.map((row) => row.attempts), [2, 2, 2, 1], JSON.stringify(rows))
    // SES has every email exactly once: one per notification, held ones included.
    const subjects = (yield* ses.emails).map((email) => email.subject)
    assert.lengthOf(subjects, Held + 1, JSON.stringify(subjects))
    for (const title of [...titles, "late"]) {
      assert.strictEqual(subjects.filter((subject) => subject.endsWith(title)).length, 1, `${title} emailed once in ${JSON.stringify(subjects)}`)
    }
    // And every push exactly once, none lost to the stuck emails.
    const pushed = fcm.received().map((m) => m.data["notificationId"])
    assert.sameMembers(pushed, [...published.map((p) => p.id), late.id])
    // Nothing more arrived on the socket: four notifications, four frames.
    const extra = yield* Effect.exit(socket.next("1 second"))
    assert.strictEqual(extra._tag, "Failure", "no frame after the four")
    console.log(`ses hang: ${JSON.stringify({
      requestTimeoutMs: Duration.toMillis(RequestTimeout),
      held: Held,
      heldMs: proxy.heldMillis(),
      latePushMs,
      allSentMs
    })}`)
  }).pipe(Effect.scoped), { timeout: 120_000 })
