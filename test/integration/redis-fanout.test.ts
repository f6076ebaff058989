/**
 * Fan-out through Redis (`REDIS_URL`): two servers on one database, a
 * notification published through one reaches a socket held by the other,
 * and both sockets of a user on different servers get it once each; an
 * operator's replay through one node reaches sockets on the other.
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const RedisUrl = process.env["HERALD_TEST_REDIS"] ?? "redis://127.0.0.1:6379"

it.live("a notification published on one node reaches the user's sockets on every node, once each", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const a = yield* testServer({ databaseUrl: database.url, redisUrl: RedisUrl })
    const b = yield* testServer({ databaseUrl: database.url, redisUrl: RedisUrl })
    const clientA = yield* Layer.build(HeraldClient.layer({ url: a.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const user = `rf-${Date.now().toString(36)}`
    const token = (yield* clientA.issueClientToken(user)).token
    const onA = yield* openRaw(a.wsUrl)
    const onB = yield* openRaw(b.wsUrl)
    for (const socket of [onA, onB]) {
      yield* socket.sendJson({ type: "auth", token })
      yield* socket.until("synced")
    }
    yield* clientA.notify({ userId: user, kind: "mention", title: "across nodes" })
    yield* clientA.notify({ userId: user, kind: "mention", title: "and again" })
    for (const socket of [onA, onB]) {
      assert.deepStrictEqual([titleOf(yield* socket.next()), titleOf(yield* socket.next())], ["across nodes", "and again"])
    }
    // Nothing more: a third publish is the next frame on both, so no duplicate came in between.
    yield* clientA.notify({ userId: user, kind: "mention", title: "third" })
    for (const socket of [onA, onB]) assert.strictEqual(titleOf(yield* socket.next()), "third")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("an operator's replay through one node reaches the user's sockets on the other, marked replayed, with the original id", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const a = yield* testServer({ databaseUrl: database.url, redisUrl: RedisUrl })
    const b = yield* testServer({ databaseUrl: database.url, redisUrl: RedisUrl })
    const clientA = yield* Layer.build(HeraldClient.layer({ url: a.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const adminB = yield* Layer.build(HeraldAdminClient.layer({ url: b.url, adminKey })).pipe(
      Effect.map(Context.get(HeraldAdminClient))
    )
    const user = `rr-${Date.now().toString(36)}`
    const stored = yield* clientA.notify({ userId: user, kind: "mention", title: "to replay" })
    const onA = yield* openRaw(a.wsUrl)
    yield* onA.sendJson({ type: "auth", token: (yield* clientA.issueClientToken(user)).token })
    yield* onA.until("synced")
    const plan = yield* adminB.planReplay({ userId: user, channel: "in_app" })
    const page = yield* adminB.replayPage({ run: plan.run, selection: plan.selection, position: plan.start, limit: 10, force: false })
    assert.deepStrictEqual(page.counts, { selected: 1, delivered: 1, failed: 0, queued: 0, skipped: 0, forced: 0 })
    const frame = yield* onA.next()
    assert.strictEqual(frame["replayed"], true)
    assert.strictEqual(titleOf(frame), "to replay")
    const notification = frame["notification"]
    assert.isTrue(typeof notification === "object" && notification !== null && "id" in notification && notification.id === stored.id)
    // The same page again (a caller that lost the answer): reported, nothing sent twice.
    const repeated = yield* adminB.replayPage({ run: plan.run, selection: plan.selection, position: plan.start, limit: 10, force: false })
    assert.strictEqual(repeated.counts.delivered, 1)
    yield* clientA.notify({ userId: user, kind: "mention", title: "live after" })
    assert.strictEqual(titleOf(yield* onA.next()), "live after", "the repeated page wrote no frame")
  }).pipe(Effect.scoped), { timeout: 60_000 })
