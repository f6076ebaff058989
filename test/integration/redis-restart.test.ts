/**
 * Redis restarted under a live socket: publishing goes on (the notifications
 * are stored), and once Redis is back the socket catches up on exactly what it
 * missed, in order, then live frames flow again. A private Redis on its own
 * port, so the shared one used by other tests is not disturbed.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { startRedisOn as startRedis } from "../support/PrivateRedis.ts"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { apiKey, freePort, testServer } from "../support/TestServer.ts"

it.live("a Redis restart loses no frame: the socket catches up on what it missed, then goes live again", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redisPort = yield* freePort
    const first = yield* startRedis(redisPort)
    const server = yield* testServer({ databaseUrl: database.url, redisUrl: `redis://127.0.0.1:${redisPort}` })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("rr-user")).token })
    yield* socket.until("synced")
    yield* client.notify({ userId: "rr-user", kind: "mention", title: "before" })
    assert.strictEqual(titleOf(yield* socket.next()), "before")

    yield* first.stop
    yield* client.notify({ userId: "rr-user", kind: "mention", title: "during 1" })
    yield* client.notify({ userId: "rr-user", kind: "mention", title: "during 2" })
    yield* startRedis(redisPort)

    const caughtUp = [titleOf(yield* socket.next("15 seconds")), titleOf(yield* socket.next("15 seconds"))]
    assert.deepStrictEqual(caughtUp, ["during 1", "during 2"])
    // Live again, and nothing repeated: the next frame is the next notification.
    yield* client.notify({ userId: "rr-user", kind: "mention", title: "after" })
    assert.strictEqual(titleOf(yield* socket.next("15 seconds")), "after", "no frame is sent twice")
  }).pipe(Effect.scoped), { timeout: 90_000 })
