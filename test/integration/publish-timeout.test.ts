/**
 * A publish whose caller gave up (HERALD_PUBLISH_TIMEOUT) while the database
 * was slow: the store still commits it, and its frame must still reach the
 * user's socket, exactly once, also when the caller retries with the same key.
 * (The mailbox used to be interrupted between storing and fanning out, so the
 * frame was skipped and later frames did not reveal the gap.) Which of the
 * abandoned publish and the retry stores the row is a race; one of them does,
 * once.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Exit, Layer } from "effect"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { tcpProxy } from "../support/TcpProxy.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { apiKey, testServer } from "../support/TestServer.ts"

it.live("a publish that timed out for its caller but was stored reaches the socket exactly once", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const target = new URL(database.url)
    const proxy = yield* tcpProxy({ host: target.hostname, port: Number(target.port) })
    const server = yield* testServer({
      databaseUrl: `postgres://${target.username}@127.0.0.1:${proxy.port}${target.pathname}`,
      publishTimeout: "300 millis"
    })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("to-user")).token })
    yield* socket.until("synced")
    yield* client.notify({ userId: "to-user", kind: "mention", title: "first" })
    assert.strictEqual(titleOf(yield* socket.next()), "first")

    yield* proxy.setLatency(400)
    const slow = yield* Effect.exit(client.notify({ userId: "to-user", kind: "mention", title: "slow", idempotencyKey: "slow-1" }))
    assert.isTrue(Exit.isFailure(slow), "the caller gave up")
    yield* proxy.setLatency(0)

    // The slow one was stored anyway; it reaches the socket (now or when the next frame reveals
    // the gap), and neither the next publish nor the caller's retry shows anything twice.
    yield* client.notify({ userId: "to-user", kind: "mention", title: "next" })
    yield* client.notify({ userId: "to-user", kind: "mention", title: "slow", idempotencyKey: "slow-1" })
    yield* client.notify({ userId: "to-user", kind: "mention", title: "last" })
    const titles: Array<string> = []
    while (titles.at(-1) !== "last") titles.push(titleOf(yield* socket.next("10 seconds")))
    assert.sameMembers(titles, ["slow", "next", "last"], `each once, got ${titles.join(", ")}`)
    const inbox = yield* client.listInbox({ userId: "to-user" })
    assert.deepStrictEqual(inbox.items.map((n) => n.title).filter((title) => title === "slow"), ["slow"], "stored once")
    // Nothing else arrives: the abandoned publish, settling late, shows nothing twice.
    const extra = yield* Effect.exit(socket.next("1500 millis"))
    assert.isTrue(Exit.isFailure(extra), "no frame after the last one")
  }).pipe(Effect.scoped), { timeout: 60_000 })
