/**
 * `herald user U` as maintainers run it when a user says they never got a
 * notification, against a real server: a user with preferences (status
 * updates kept out of the app and sent to the digest), one device, an open
 * socket that acked part of what it got, a push that was sent, a push that
 * died with the provider's reason, an email, and an item waiting for the
 * digest. `--json` shows each of them; the human output has every section;
 * after the digest goes out its row says so; the app key is refused; a bad
 * user id is a usage error naming it.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { bucketOf } from "@herald/server/rollout/Bucket"
import { Context, Effect, Layer } from "effect"
import { eventually } from "../support/eventually.ts"
import { lines, runCli } from "../support/HeraldCli.ts"
import { openRaw } from "../support/RawSocket.ts"
import { makeScriptedChannels, sent } from "../support/ScriptedChannels.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const User = "uu-alice"
const DeadReason = "provider refused the payload"

interface Send {
  readonly state: string
  readonly attempts: number
  readonly lastError: string | null
  readonly sentAt: string | null
  readonly latencyMs: number | null
}
interface Item {
  readonly notification: { readonly title: string; readonly cursor: number }
  readonly route: { readonly inApp: boolean; readonly push: boolean; readonly email: string }
  readonly acked: boolean
  readonly deliveries: ReadonlyArray<Send & { readonly channel: string; readonly target: string }>
  readonly digest: { readonly state: string; readonly digestId: number | null; readonly email: Send | null } | null
}
interface Report {
  readonly userId: string
  readonly known: boolean
  readonly cursors: { readonly last: number; readonly acked: number }
  readonly preferences: { readonly emailAddress: string | null; readonly kinds: Record<string, { readonly inApp: boolean; readonly email: string }> }
  readonly digest: { readonly nextAt: string | null; readonly pending: number }
  readonly devices: ReadonlyArray<{ readonly token: string; readonly platform: string }>
  readonly rollout: { readonly enabled: boolean; readonly reason: string; readonly bucket: number }
  readonly connections: {
    readonly sockets: number
    readonly nodes: ReadonlyArray<{ readonly nodeId: string; readonly address: string; readonly sockets: number }>
    readonly nodesAnswered: number
    readonly complete: boolean
  }
  readonly notifications: ReadonlyArray<Item>
}

const byTitle = (report: Report, title: string): Item => {
  const item = report.notifications.find((n) => n.notification.title === title)
  assert.isDefined(item, `notification "${title}" in the report`)
  return item
}

it.live("herald user shows preferences, devices, rollout, sockets and what became of each notification", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const channels = makeScriptedChannels(({ notification }) =>
      Effect.succeed(notification.title === "will die" ? { _tag: "Fail", reason: DeadReason } : sent)
    )
    const server = yield* testServer({ databaseUrl: database.url, channels: channels.layer, deliveryPoll: "100 millis" })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    yield* client.updatePreferences(User, {
      emailAddress: "alice@example.com",
      kinds: {
        mention: { email: "off" },
        assignment: { email: "immediate" },
        status_update: { inApp: false, push: false, email: "digest" }
      }
    })
    yield* client.registerDevice(User, "alice-phone-token", "android")

    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken(User)).token })
    yield* socket.until("synced")
    yield* client.notify({ userId: User, kind: "mention", title: "pushed" })
    yield* client.notify({ userId: User, kind: "mention", title: "will die" })
    yield* client.notify({ userId: User, kind: "assignment", title: "emailed" })
    yield* client.notify({ userId: User, kind: "status_update", title: "for the digest" })
    // The client acks the first two of the three frames it got.
    yield* socket.until("notification")
    yield* socket.until("notification")
    yield* socket.sendJson({ type: "ack", cursor: 2 })
    yield* eventually(
      query<{ settled: boolean }>(database.url, `
        SELECT (SELECT acked_cursor FROM herald_users WHERE user_id = $1) = 2
          AND (SELECT count(*) FROM deliveries WHERE state IN ('sent', 'dead')) = 4 AS settled`, [User]),
      (rows) => rows[0]?.settled === true,
      { times: 200, every: "100 millis" }
    )

    const admin = (...args: ReadonlyArray<string>) => runCli(["user", ...args, "--url", server.url, "--admin-key", adminKey])
    const reportOf = (...args: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const run = yield* admin(...args, "--json")
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stderr, "")
        assert.strictEqual(lines(run.stdout).length, 1, "one JSON object on one line")
        const report: Report = JSON.parse(run.stdout)
        return report
      })

    const report = yield* reportOf(User)
    assert.strictEqual(report.userId, User)
    assert.isTrue(report.known)
    assert.deepStrictEqual(report.cursors, { last: 4, acked: 2 })
    assert.strictEqual(report.preferences.emailAddress, "alice@example.com")
    assert.isFalse(report.preferences.kinds["status_update"]?.inApp)
    assert.deepStrictEqual(report.devices.map((d) => [d.platform, d.token]), [["android", "alice-phone-token"]])
    assert.deepStrictEqual(report.rollout, { ...report.rollout, enabled: true, reason: "percentage", bucket: bucketOf(User) })
    assert.deepStrictEqual(report.connections, {
      sockets: 1,
      nodes: [{ nodeId: "single", address: `127.0.0.1:${server.port}`, sockets: 1 }],
      nodesAnswered: 1,
      complete: true
    })
    assert.strictEqual(report.digest.pending, 1)
    assert.isNotNull(report.digest.nextAt)

    assert.deepStrictEqual(report.notifications.map((n) => n.notification.title), ["for the digest", "emailed", "will die", "pushed"])
    const pushed = byTitle(report, "pushed")
    assert.isTrue(pushed.acked)
    assert.deepStrictEqual(pushed.deliveries.map((d) => [d.channel, d.state, d.attempts, d.lastError]), [["push", "sent", 1, null]])
    assert.isAtLeast(pushed.deliveries[0]?.latencyMs ?? -1, 0, "a sent push has a latency")
    assert.isNull(pushed.digest)
    const dead = byTitle(report, "will die")
    assert.isTrue(dead.acked)
    assert.deepStrictEqual(dead.deliveries.map((d) => [d.channel, d.state, d.attempts, d.lastError, d.latencyMs]), [
      ["push", "dead", 1, DeadReason, null]
    ])
    const emailed = byTitle(report, "emailed")
    assert.isFalse(emailed.acked, "after the acked cursor")
    assert.deepStrictEqual(emailed.deliveries.map((d) => [d.channel, d.state, d.target]), [
      ["push", "sent", "alice-phone-token"],
      ["email", "sent", "alice@example.com"]
    ])
    const digested = byTitle(report, "for the digest")
    assert.deepStrictEqual(digested.route, { inApp: false, push: false, email: "digest" })
    assert.isFalse(digested.acked)
    assert.deepStrictEqual(digested.deliveries, [])
    assert.deepStrictEqual(digested.digest, { state: "pending", digestId: null, email: null })

    const limited = yield* reportOf(User, "--limit", "2")
    assert.deepStrictEqual(limited.notifications.map((n) => n.notification.title), ["for the digest", "emailed"])

    const human = yield* admin(User)
    assert.strictEqual(human.code, 0, human.stderr)
    const text = human.stdout
    for (const section of ["preferences:", "digest:", "devices:", "rollout:", "connections:", "notifications (all, newest first):"]) {
      assert.include(text, `\n${section}\n`)
    }
    assert.include(text, `user ${User}: known since`)
    assert.include(text, "real-time on: bucket")
    assert.include(text, "1 open socket on 1 node (1 node answered)")
    assert.include(text, "alice-phone-token")
    assert.include(text, DeadReason)
    assert.match(text, /#3 .* assignment {2}emailed {2}\(unread\)/)
    assert.match(text, /in-app +off/)
    assert.match(text, /digest +waiting +the next digest/)

    // Once the digest is out, its row says so, with the digest's latency.
    const sendNow = yield* runCli(["digest", "send-now", "--user", User, "--url", server.url, "--admin-key", adminKey])
    assert.strictEqual(sendNow.code, 0, sendNow.stderr)
    const after = yield* eventually(reportOf(User), (r) => byTitle(r, "for the digest").digest?.email?.state === "sent", {
      times: 100,
      every: "100 millis"
    })
    const digest = byTitle(after, "for the digest").digest
    assert.strictEqual(digest?.state, "included")
    assert.isNotNull(digest?.digestId ?? null)
    assert.isAtLeast(digest?.email?.latencyMs ?? -1, 0)
    assert.strictEqual(after.digest.pending, 0)

    const refused = yield* runCli(["user", User, "--url", server.url, "--admin-key", apiKey])
    assert.strictEqual(refused.code, 1, "the app key is refused")
    assert.include(refused.stderr, "admin key")

    const bad = yield* runCli(["user", "not valid!", "--url", server.url, "--admin-key", adminKey])
    assert.strictEqual(bad.code, 2, bad.stderr)
    assert.strictEqual(lines(bad.stderr).length, 1, bad.stderr)
    assert.match(bad.stderr, /^herald: .*user.*"not valid!"/)
    assert.strictEqual(bad.stdout, "")
  }).pipe(Effect.scoped), { timeout: 120_000 })
