/**
 * `herald replay` as maintainers run it, against a real server: a provider
 * outage leaves 10,000 dead pushes; a dry run counts them and changes
 * nothing; a replay interrupted with Ctrl-C and resumed from its token sends
 * each exactly once; already-sent pushes go again only with --force, without
 * tripping the rollout guard; in-app replays reach open sockets with their
 * original ids and no client shows one twice; the admin key is required.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient, type NotifyInput, NotificationSocket } from "@herald/client"
import type { Notification } from "@herald/domain"
import { Context, Effect, Fiber, Layer, Stream } from "effect"
import { startCli } from "../support/CliProcess.ts"
import { eventually } from "../support/eventually.ts"
import { lines, runCli } from "../support/HeraldCli.ts"
import { openRaw, type ServerFrame } from "../support/RawSocket.ts"
import { makeScriptedChannels, sent } from "../support/ScriptedChannels.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const Users = 100
const PerUser = 100
const Dead = Users * PerUser

const states = (url: string) =>
  query<{ state: string; n: number }>(url, "SELECT state, count(*)::int AS n FROM deliveries GROUP BY state ORDER BY state").pipe(
    Effect.map((rows) => Object.fromEntries(rows.map((row) => [row.state, row.n])))
  )

const jsonLine = (stdout: string): Record<string, unknown> => {
  const parsed: unknown = JSON.parse(lines(stdout).at(-1) ?? "{}")
  return typeof parsed === "object" && parsed !== null ? Object.fromEntries(Object.entries(parsed)) : {}
}

const setup = Effect.gen(function*() {
  const database = yield* testDatabase
  const channels = makeScriptedChannels()
  const server = yield* testServer({ databaseUrl: database.url, channels: channels.layer, deliveryPoll: "100 millis" })
  const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
  const admin = (...args: ReadonlyArray<string>) => ["--url", server.url, "--admin-key", adminKey, ...args]
  return { database, channels, server, client, admin }
})

it.live("10,000 dead pushes after an outage: dry run changes nothing; a replay interrupted and resumed sends each exactly once", () =>
  Effect.gen(function*() {
    const { admin, channels, client, database } = yield* setup
    // The provider refuses every push for good while it is down.
    channels.setScript(() => Effect.succeed({ _tag: "Fail", reason: "provider outage" }))
    const userIds = Array.from({ length: Users }, (_, u) => `rp-${u}`)
    yield* Effect.forEach(userIds, (userId) => client.registerDevice(userId, `${userId}-phone`, "android"), { concurrency: 8 })
    const items: Array<NotifyInput> = userIds.flatMap((userId) =>
      Array.from({ length: PerUser }, (_, i) => ({ userId, kind: "mention" as const, title: `n${i}` }))
    )
    for (let start = 0; start < items.length; start += 500) yield* client.notifyBatch(items.slice(start, start + 500))
    yield* eventually(states(database.url), (s) => s["dead"] === Dead, { times: 600, every: "100 millis" })

    const dry = yield* runCli(["replay", ...admin("--channel", "push", "--status", "dead", "--since", "1h", "--dry-run", "--json")])
    assert.strictEqual(dry.code, 0, dry.stderr)
    const plan = jsonLine(dry.stdout)
    assert.strictEqual(plan["selected"], Dead)
    assert.deepStrictEqual(plan["push"], { failed: 0, dead: Dead, sent: 0 })
    assert.deepStrictEqual(yield* states(database.url), { dead: Dead }, "a dry run changes nothing")
    const human = yield* runCli(["replay", ...admin("--channel", "push", "--status", "dead", "--dry-run")])
    assert.include(human.stdout, "CHANNEL")
    assert.include(human.stdout, "dry run: nothing changed")

    // The dead letters answer to the same filters.
    const mentions = yield* runCli(["deadletters", "list", ...admin("--kind", "mention", "--since", "1h", "--limit", "5", "--json")])
    assert.strictEqual(lines(mentions.stdout).length, 5, mentions.stderr)
    const assignments = yield* runCli(["deadletters", "list", ...admin("--kind", "assignment", "--json")])
    assert.strictEqual(assignments.stdout, "")
    const older = yield* runCli(["deadletters", "list", ...admin("--until", "1h", "--json")])
    assert.strictEqual(older.stdout, "", "none published more than an hour ago")

    // The provider is back. Ctrl-C part way, then resume from the token the replay printed.
    channels.setScript(() => Effect.succeed(sent))
    const first = yield* startCli(["replay", ...admin("--channel", "push", "--status", "dead", "--rate", "4000", "--json")])
    yield* eventually(states(database.url), (s) => (s["sent"] ?? 0) >= 1_000, { times: 600, every: "50 millis" })
    yield* first.signal("SIGINT")
    const stopped = yield* first.exited
    assert.notStrictEqual(stopped.code, 0, "an interrupted replay does not exit 0")
    assert.include(stopped.stderr, "resume with: herald replay --resume hr1.")
    const partial = jsonLine(stopped.stdout)
    assert.strictEqual(partial["complete"], false, stopped.stdout)
    const token = partial["resume"]
    assert.isString(token)
    const sentBefore = (yield* states(database.url))["sent"] ?? 0
    assert.isBelow(sentBefore, Dead, "stopped before the end")

    const resumed = yield* startCli(["replay", ...admin("--resume", String(token), "--rate", "4000", "--json")])
    const finished = yield* resumed.exited
    assert.strictEqual(finished.code, 0, finished.stderr)
    const summary = jsonLine(finished.stdout)
    assert.strictEqual(summary["complete"], true)
    assert.strictEqual(summary["selected"], Dead, "the summary covers the whole replay, interrupted page included")
    assert.strictEqual(summary["delivered"], Dead)
    assert.strictEqual(summary["failed"], 0)
    assert.strictEqual(summary["forced"], 0)

    const pushes = channels.records().filter((r) => r.channel === "push")
    assert.strictEqual(pushes.length, Dead, "each dead push sent exactly once")
    assert.strictEqual(new Set(pushes.map((r) => r.notificationId)).size, Dead)
    assert.deepStrictEqual(yield* states(database.url), { sent: Dead })
    const again = yield* runCli(["replay", ...admin("--channel", "push", "--status", "dead", "--json")])
    assert.strictEqual(jsonLine(again.stdout)["selected"], 0, "nothing left to replay")
  }).pipe(Effect.scoped), { timeout: 240_000 })

it.live("in-app replay reaches open sockets with the original ids, no client shows one twice; sent pushes go again only with --force", () =>
  Effect.gen(function*() {
    const { admin, channels, client, database, server } = yield* setup
    const userId = "ia-user"
    yield* client.registerDevice(userId, "ia-phone", "android")
    const raw = yield* openRaw(server.wsUrl)
    yield* raw.sendJson({ type: "auth", token: (yield* client.issueClientToken(userId)).token })
    yield* raw.until("synced")
    const socket = yield* NotificationSocket.make({ url: server.wsUrl, token: (yield* client.issueClientToken(userId)).token })
    const shown: Array<Notification> = []
    const reader = yield* socket.notifications.pipe(Stream.runForEach((n) => Effect.sync(() => shown.push(n))), Effect.forkScoped)
    yield* eventually(socket.state, (state) => state === "open")

    const live = yield* client.notify({ userId, kind: "mention", title: "live" })
    yield* eventually(Effect.sync(() => shown.length), (n) => n === 1)
    yield* raw.until("notification")
    // Under the kill switch these are stored (inbox) but go to no socket.
    yield* runCli(["rollout", "kill", ...admin("--reason", "drill")])
    const killed = [
      yield* client.notify({ userId, kind: "mention", title: "killed-1" }),
      yield* client.notify({ userId, kind: "assignment", title: "killed-2" })
    ]
    yield* runCli(["rollout", "resume", ...admin()])

    const replayed = yield* runCli(["replay", ...admin("--user", userId, "--channel", "in_app", "--json")])
    assert.strictEqual(replayed.code, 0, replayed.stderr)
    assert.include(jsonLine(replayed.stdout), { selected: 3, delivered: 3, complete: true })
    const frames: Array<ServerFrame> = [yield* raw.next(), yield* raw.next(), yield* raw.next()]
    const ids = frames.map((frame) => {
      const notification = frame["notification"]
      return typeof notification === "object" && notification !== null && "id" in notification ? String(notification.id) : ""
    })
    assert.sameMembers(ids, [live.id, ...killed.map((k) => k.id)], "the original ids")
    assert.isTrue(frames.every((frame) => frame["replayed"] === true))
    yield* eventually(Effect.sync(() => shown.length), (n) => n === 3)
    assert.deepStrictEqual(shown.map((n) => n.title), ["live", "killed-1", "killed-2"], "the client shows each once")

    // A second replay writes the frames again; the client has shown them all and drops them.
    const twice = yield* runCli(["replay", ...admin("--user", userId, "--channel", "in_app", "--json")])
    assert.include(jsonLine(twice.stdout), { delivered: 3 })
    yield* raw.next()
    yield* raw.next()
    yield* raw.next()
    assert.strictEqual(shown.length, 3, "nothing shown twice")
    const inbox = yield* client.listInbox({ userId })
    assert.deepStrictEqual(inbox.items.map((n) => n.title), ["killed-2", "killed-1", "live"], "the inbox is unchanged")

    // The live notification's push was sent: skipped without --force, sent once more with it.
    yield* eventually(Effect.sync(() => channels.records().filter((r) => r.channel === "push").length), (n) => n === 1)
    const skipped = yield* runCli(["replay", ...admin("--user", userId, "--channel", "push", "--status", "sent", "--json")])
    assert.include(jsonLine(skipped.stdout), { selected: 1, skipped: 1, delivered: 0 })
    const forced = yield* runCli(["replay", ...admin("--user", userId, "--channel", "push", "--status", "sent", "--force")])
    assert.strictEqual(forced.code, 0, forced.stderr)
    assert.include(forced.stdout, "replay complete")
    const pushes = channels.records().filter((r) => r.channel === "push" && r.notificationId === live.id)
    assert.strictEqual(pushes.length, 2, "sent again once, as asked")
    const [row] = yield* query<{ sends: number; allowed: number }>(
      database.url,
      "SELECT sends, resends_allowed AS allowed FROM deliveries WHERE user_id = $1",
      [userId]
    )
    assert.deepStrictEqual(row, { sends: 2, allowed: 1 }, "the forced send is counted as wanted")
    const [flag] = yield* query<{ killed: boolean }>(database.url, "SELECT killed FROM rollout_flags")
    assert.isFalse(flag?.killed, "a forced resend is not a duplicate push for the guard")
    yield* socket.close
    yield* Fiber.join(reader)
  }).pipe(Effect.scoped), { timeout: 90_000 })

it.live("replay refuses the app key, bad times and bad tokens with one-line errors", () =>
  Effect.gen(function*() {
    const { admin, server } = yield* setup
    const refused = yield* runCli(["replay", "--url", server.url, "--admin-key", apiKey, "--dry-run"])
    assert.strictEqual(refused.code, 1)
    assert.include(refused.stderr, "admin key")
    const badTime = yield* runCli(["replay", ...admin("--since", "yesterday")])
    assert.strictEqual(badTime.code, 2)
    assert.include(badTime.stderr, "--since")
    assert.strictEqual(lines(badTime.stderr).length, 1)
    const backwards = yield* runCli(["replay", ...admin("--since", "2026-12-01T00:00:00Z", "--until", "2026-11-01T00:00:00Z")])
    assert.strictEqual(backwards.code, 2)
    assert.include(backwards.stderr, "until must be after since")
    const badToken = yield* runCli(["replay", ...admin("--resume", "nonsense")])
    assert.strictEqual(badToken.code, 2)
    assert.include(badToken.stderr, "--resume")
    const mixed = yield* runCli(["replay", ...admin("--resume", "hr1.e30", "--user", "bob")])
    assert.strictEqual(mixed.code, 2)
    assert.include(mixed.stderr, "--resume carries")
  }).pipe(Effect.scoped), { timeout: 60_000 })
