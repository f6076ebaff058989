/**
 * The digest scheduler driven by TestClock: its background loop sees only
 * virtual time, so a digest is built exactly when the clock reaches the
 * user's local fire instant (here Lord Howe's 30-minute DST change) and not
 * a moment before, against the real database.
 */
import { assert, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { NotificationId, NotifyItem, UserId } from "@herald/domain"
import { DigestScheduler, NotificationRepo, NotificationWriter } from "@herald/server"
import { DigestRepo } from "@herald/server/storage/DigestRepo"
import { MigrationsLayer } from "@herald/server/storage/Database"
import { UserRepo } from "@herald/server/storage/UserRepo"
import { nextFire } from "@herald/server/digest/DigestTime"
import { DateTime, Effect, Layer, Redacted } from "effect"
import { SecureRandom } from "effect/crypto"
import { TestClock } from "effect/testing"
import { makeScriptedChannels } from "../support/ScriptedChannels.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { testConfig } from "../support/TestServer.ts"

const Zone = "Australia/Lord_Howe"
// 2026-10-04 02:00 local does not exist there (clocks go from 02:00 to 02:30).
const Start = Date.parse("2026-10-03T12:00:00Z")

it.effect("with TestClock, a daily 02:15 Lord Howe digest is built when the clock reaches the end of the DST gap", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const channels = makeScriptedChannels()
    const sql = PgClient.layer({ url: Redacted.make(database.url) })
    const repos = Layer.mergeAll(NotificationRepo.layer, NotificationWriter.layer.pipe(Layer.provideMerge(UserRepo.layer)), DigestRepo.layer).pipe(
      Layer.provideMerge(MigrationsLayer),
      Layer.provideMerge(sql)
    )
    yield* TestClock.setTime(Start)
    const layer = DigestScheduler.layer.pipe(
      Layer.provideMerge(repos),
      Layer.provide(channels.layer),
      Layer.provide(testConfig({ databaseUrl: database.url, deliveryPoll: "1 minute" }))
    )
    yield* Effect.gen(function*() {
      const users = yield* UserRepo
      const notifications = yield* NotificationWriter
      const user = UserId.make("lh-user")
      const prefs = yield* users.updatePreferences(user, {
        emailAddress: "lh@example.com",
        digest: { schedule: { _tag: "daily", at: "02:15" }, timeZone: Zone }
      })
      const due = nextFire(prefs.digest.schedule, Zone, Start)
      // 02:15 falls in the gap: the digest is due at its end, 02:30 LHDT = 15:30Z.
      assert.strictEqual(new Date(due).toISOString(), "2026-10-03T15:30:00.000Z")
      yield* notifications.publish([{
        userId: user,
        items: [{
          id: NotificationId.make(SecureRandom.uuidV7Unsafe()),
          item: NotifyItem.make({ userId: user, kind: "mention", title: "before the gap" })
        }],
        routing: () => ({ route: () => ({ inApp: true, push: false, email: "digest" }), digestDueAt: () => new Date(due) }),
        traceParent: null
      }])
      const built = () => query<{ scheduled_at: Date }>(database.url, "SELECT scheduled_at FROM digests")

      // The loop's sleeps are virtual, its SQL is real I/O: after each step, give that I/O real
      // time to finish, so the loop is asleep again before the clock moves on.
      const settle = TestClock.withLive(Effect.sleep("500 millis"))
      yield* settle
      yield* TestClock.adjust(due - Start - 60_000)
      yield* settle
      assert.deepStrictEqual(yield* built(), [], "one minute early: nothing")
      yield* TestClock.adjust(60_000)
      let rows = yield* built()
      for (let i = 1; i <= 600 && rows.length === 0; i++) {
        yield* TestClock.withLive(Effect.sleep("50 millis"))
        // On a busy machine the loop can register its next sleep only after the clock moved, one
        // poll interval later; the digest is still built for the due instant, as asserted below.
        if (i % 20 === 0) yield* TestClock.adjust("1 minute")
        rows = yield* built()
      }
      assert.deepStrictEqual(rows.map((r) => r.scheduled_at.toISOString()), ["2026-10-03T15:30:00.000Z"])
      yield* TestClock.adjust("1 hour")
      yield* settle
      assert.strictEqual((yield* built()).length, 1, "built once")
      assert.isAtLeast(DateTime.toEpochMillis(yield* DateTime.now), due + 3_600_000)
    }).pipe(Effect.provide(layer))
  }).pipe(Effect.scoped), { timeout: 60_000 })

