/**
 * Digests through SES over a simulated day (2026-03-08, the day New York
 * springs forward), for three users in three zones, with the server restarted
 * in the middle: exactly the expected digests, each with exactly the expected
 * items, and nothing else.
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import { ChannelsFromEnv } from "@herald/server"
import { Clock, ConfigProvider, Context, DateTime, Effect, Exit, Layer, References, Scope } from "effect"
import { eventually } from "../support/eventually.ts"
import { makeScriptedChannels } from "../support/ScriptedChannels.ts"
import { SesEmulator } from "../support/SesEmulator.ts"
import { makeShiftedClock } from "../support/ShiftedClock.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, freePort, testServer } from "../support/TestServer.ts"

const at = (hhmm: string) => new Date(`2026-03-08T${hhmm}:00Z`)

it.live("three users in three zones get exactly their digests over a day, across a restart", () =>
  Effect.gen(function*() {
    const ses = yield* SesEmulator.make
    const database = yield* testDatabase
    const port = yield* freePort
    const shifted = yield* makeShiftedClock
    const env = { SES_FROM: "herald@example.com", SES_REGION: "us-east-1", SES_ENDPOINT: ses.url, AWS_ACCESS_KEY_ID: "t", AWS_SECRET_ACCESS_KEY: "t" }
    const channels = ChannelsFromEnv.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))))
    const start = (scope: Scope.Scope) =>
      testServer({ databaseUrl: database.url, port, channels, deliveryPoll: "200 millis" }).pipe(
        Scope.provide(scope),
        Effect.provideService(Clock.Clock, shifted.clock),
        Effect.provideService(References.MinimumLogLevel, "Warn")
      )

    yield* shifted.setTo(at("00:00"))
    const firstScope = yield* Scope.make()
    let server = yield* start(firstScope)
    const url = `http://127.0.0.1:${port}`
    const client = yield* Layer.build(HeraldClient.layer({ url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const admin = yield* Layer.build(HeraldAdminClient.layer({ url, adminKey })).pipe(Effect.map(Context.get(HeraldAdminClient)))

    const users = [
      { id: "dg-ny", zone: "America/New_York", schedule: { _tag: "daily", at: "09:00" } },
      { id: "dg-kol", zone: "Asia/Kolkata", schedule: { _tag: "daily", at: "20:00" } },
      { id: "dg-lon", zone: "Europe/London", schedule: { _tag: "weekly", weekday: "sunday", at: "10:00" } }
    ] as const
    for (const user of users) {
      yield* client.updatePreferences(user.id, {
        emailAddress: `${user.id}@example.com`,
        digest: { schedule: user.schedule, timeZone: user.zone }
      })
    }
    const publish = (userId: string, title: string) => client.notify({ userId, kind: "mention", title })

    // Every half hour of the day: first what happens then, then the scheduler at that instant.
    const events: Record<string, Effect.Effect<unknown, unknown>> = {
      "01:00": Effect.forEach(users, (u) => Effect.all([publish(u.id, `${u.id} early 1`), publish(u.id, `${u.id} early 2`)])),
      "09:30": publish("dg-lon", "dg-lon before ten"),
      "11:00": Effect.gen(function*() {
        yield* publish("dg-ny", "dg-ny late morning")
        const [early1] = (yield* client.listInbox({ userId: "dg-ny" })).items.filter((n) => n.title === "dg-ny early 1")
        yield* client.markRead("dg-ny", [early1?.id ?? ""])
      }),
      "12:00": Effect.gen(function*() {
        yield* Scope.close(firstScope, Exit.void)
        server = yield* start(yield* Scope.make())
      }),
      "14:00": publish("dg-kol", "dg-kol afternoon"),
      "15:00": publish("dg-lon", "dg-lon after ten"),
      "16:00": publish("dg-ny", "dg-ny afternoon")
    }
    for (let minutes = 0; minutes <= 24 * 60; minutes += 30) {
      const hhmm = `${String(Math.floor(minutes / 60) % 24).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`
      const instant = minutes === 24 * 60 ? new Date("2026-03-09T00:00:00Z") : at(hhmm)
      yield* shifted.setTo(instant)
      const event = events[hhmm]
      if (event !== undefined && minutes < 24 * 60) yield* event
      yield* server.digests.runDue(DateTime.fromDateUnsafe(instant))
    }

    const emails = yield* ses.emails
    const digest = (to: string) => emails.filter((e) => e.destination.to.includes(to))
    assert.strictEqual(emails.length, 3, emails.map((e) => `${e.destination.to.join()}: ${e.subject}`).join("\n"))
    const titlesIn = (text: string | undefined) => [...(text ?? "").matchAll(/^- (dg-[\w-]+ [\w ]+)$/gm)].map((m) => m[1])
    assert.deepStrictEqual(titlesIn(digest("dg-lon@example.com")[0]?.body.text), ["dg-lon before ten", "dg-lon early 2", "dg-lon early 1"])
    assert.deepStrictEqual(titlesIn(digest("dg-ny@example.com")[0]?.body.text), ["dg-ny late morning", "dg-ny early 2"], "read items are left out")
    assert.deepStrictEqual(titlesIn(digest("dg-kol@example.com")[0]?.body.text), ["dg-kol afternoon", "dg-kol early 2", "dg-kol early 1"])

    // Each digest was built for its user's local time: 10:00 London (GMT), 09:00 New York (EDT, after the
    // spring-forward), 20:00 Kolkata (+05:30).
    const built = yield* query<{ user_id: string; scheduled_at: Date; item_count: number; state: string }>(
      database.url,
      "SELECT user_id, scheduled_at, item_count, state FROM digests ORDER BY scheduled_at"
    )
    assert.deepStrictEqual(built.map((d) => [d.user_id, d.scheduled_at.toISOString(), d.item_count, d.state]), [
      ["dg-lon", "2026-03-08T10:00:00.000Z", 3, "sent"],
      ["dg-ny", "2026-03-08T13:00:00.000Z", 2, "sent"],
      ["dg-kol", "2026-03-08T14:30:00.000Z", 3, "sent"]
    ])
    // What came after each digest waits for the next one.
    const lonNext = yield* admin.previewDigest("dg-lon")
    assert.deepStrictEqual(lonNext.items.map((n) => n.title), ["dg-lon after ten"])
    assert.strictEqual(lonNext.dueAt === null ? null : DateTime.formatIso(lonNext.dueAt), "2026-03-15T10:00:00.000Z")
    const nyNext = yield* admin.previewDigest("dg-ny")
    assert.deepStrictEqual(nyNext.items.map((n) => n.title), ["dg-ny afternoon"])
    assert.strictEqual(nyNext.dueAt === null ? null : DateTime.formatIso(nyNext.dueAt), "2026-03-09T13:00:00.000Z")
  }).pipe(Effect.scoped), { timeout: 120_000 })

it.live("send-now builds the digest at once; an empty digest is not sent", () =>
  Effect.gen(function*() {
    const ses = yield* SesEmulator.make
    const database = yield* testDatabase
    const env = { SES_FROM: "herald@example.com", SES_REGION: "us-east-1", SES_ENDPOINT: ses.url, AWS_ACCESS_KEY_ID: "t", AWS_SECRET_ACCESS_KEY: "t" }
    const channels = ChannelsFromEnv.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))))
    const server = yield* testServer({ databaseUrl: database.url, channels, deliveryPoll: "100 millis" }).pipe(
      Effect.provideService(References.MinimumLogLevel, "Warn")
    )
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const admin = yield* Layer.build(HeraldAdminClient.layer({ url: server.url, adminKey })).pipe(Effect.map(Context.get(HeraldAdminClient)))
    yield* client.updatePreferences("dg-now", { emailAddress: "now@example.com" })
    assert.strictEqual(yield* admin.sendDigestNow("dg-now"), 0, "nothing waiting: nothing to send")
    yield* client.notify({ userId: "dg-now", kind: "assignment", title: "task one" })
    yield* client.notify({ userId: "dg-now", kind: "status_update", title: "build green" })
    const preview = yield* admin.previewDigest("dg-now")
    assert.deepStrictEqual(preview.items.map((n) => n.title), ["build green", "task one"])
    assert.strictEqual(preview.emailAddress, "now@example.com")
    assert.strictEqual(yield* admin.sendDigestNow("dg-now"), 2)
    let emails = yield* ses.emails
    for (let i = 0; i < 100 && emails.length === 0; i++) {
      yield* Effect.sleep("50 millis")
      emails = yield* ses.emails
    }
    assert.strictEqual(emails.length, 1)
    assert.include(emails[0]?.subject ?? "", "1 assignment, 1 status update")
    assert.strictEqual(emails[0]?.header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
    assert.deepStrictEqual((yield* admin.previewDigest("dg-now")).items, [])
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("a server that dies after claiming a digest and before sending it: the next one sends it, once", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const port = yield* freePort
    // The first server's email provider never answers a digest: it dies with the digest claimed.
    const first = makeScriptedChannels(() => Effect.never)
    const options = { databaseUrl: database.url, port, deliveryPoll: "100 millis", deliveryLease: "1 second" } as const
    const firstScope = yield* Scope.make()
    const server = yield* testServer({ ...options, channels: first.layer }).pipe(Scope.provide(firstScope))
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const admin = yield* Layer.build(HeraldAdminClient.layer({ url: server.url, adminKey })).pipe(Effect.map(Context.get(HeraldAdminClient)))
    yield* client.updatePreferences("dg-crash", { emailAddress: "crash@example.com", digest: { includeRead: true } })
    const [read] = yield* Effect.forEach(["one", "two"], (title) => client.notify({ userId: "dg-crash", kind: "mention", title }))
    yield* client.markRead("dg-crash", [read?.id ?? ""])
    assert.strictEqual(yield* admin.sendDigestNow("dg-crash"), 2, "with includeRead the read item stays in")
    const claimed = () => query<{ state: string }>(database.url, "SELECT state FROM digests WHERE user_id = 'dg-crash'")
    yield* eventually(claimed(), (rows) => rows[0]?.state === "sending")
    yield* Scope.close(firstScope, Exit.void)

    const second = makeScriptedChannels()
    yield* testServer({ ...options, channels: second.layer })
    const rows = yield* eventually(claimed(), (rows) => rows[0]?.state === "sent", { times: 200 })
    assert.deepStrictEqual(rows.map((r) => r.state), ["sent"])
    assert.strictEqual(first.records().length + second.records().length, 2, "the digest's two items were sent once, in one email")
  }).pipe(Effect.scoped), { timeout: 60_000 })
