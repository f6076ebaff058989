/**
 * Fan-out through Redis (`REDIS_URL`): two servers on one database, a
 * notification published through one reaches a socket held by the other,
 * and both sockets of a user on different servers get it once each.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { apiKey, testServer } from "../support/TestServer.ts"

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
