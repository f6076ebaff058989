/**
 * PostgreSQL really restarted under Herald (its own cluster, stopped with
 * `pg_ctl -m fast`, which terminates every connection, then started again):
 * while it is down Notify fails with the typed, retryable StorageUnavailable
 * and stores nothing; once it is back the pool reconnects by itself, the
 * app's retries with the same idempotency keys succeed, and the socket gets
 * every accepted notification exactly once, in order.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client/HeraldClient"
import { Context, Effect, Layer } from "effect"
import { eventually } from "../support/eventually.ts"
import { privatePostgres } from "../support/PrivatePostgres.ts"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { apiKey, testServer } from "../support/TestServer.ts"

it.live("a PostgreSQL restart: Notify fails typed and retryable while it is down, recovers by itself, and nothing is lost or doubled", () =>
  Effect.gen(function*() {
    const postgres = yield* privatePostgres
    const server = yield* testServer({ databaseUrl: postgres.url, publishTimeout: "2 seconds" })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("pg-user")).token })
    yield* socket.until("synced")
    yield* client.notify({ userId: "pg-user", kind: "mention", title: "before", idempotencyKey: "before" })
    assert.strictEqual(titleOf(yield* socket.next()), "before")

    yield* postgres.stop
    const down = yield* Effect.flip(client.notify({ userId: "pg-user", kind: "mention", title: "during", idempotencyKey: "during" }))
    assert.strictEqual(down._tag, "StorageUnavailable")
    if (down._tag === "StorageUnavailable") assert.isTrue(down.retryable)

    yield* postgres.start
    // The app retries with the same key until the store is back; the pool reconnects by itself.
    const retried = yield* eventually(
      Effect.exit(client.notify({ userId: "pg-user", kind: "mention", title: "during", idempotencyKey: "during" })),
      (exit) => exit._tag === "Success",
      { times: 60, every: "500 millis" }
    )
    assert.strictEqual(retried._tag, "Success")
    yield* client.notify({ userId: "pg-user", kind: "mention", title: "after", idempotencyKey: "after" })

    // The socket stays open or, if its catch-up met the outage, was closed with 1011; either way
    // what it showed plus a resume from its last cursor is every notification exactly once.
    const seen: Array<string> = []
    let last = 1
    while (true) {
      const next = yield* Effect.exit(socket.next("2 seconds"))
      if (next._tag === "Failure") break
      const frame = next.value
      if (frame.type !== "notification") continue
      seen.push(titleOf(frame))
      const notification = frame["notification"]
      if (typeof notification === "object" && notification !== null && "cursor" in notification && typeof notification.cursor === "number") {
        last = notification.cursor
      }
    }
    const resumed = yield* openRaw(server.wsUrl)
    yield* resumed.sendJson({ type: "auth", token: (yield* client.issueClientToken("pg-user")).token, resume: last })
    for (const frame of yield* resumed.until("synced", "10 seconds")) if (frame.type === "notification") seen.push(titleOf(frame))
    assert.deepStrictEqual(seen, ["during", "after"])
    const inbox = yield* client.listInbox({ userId: "pg-user" })
    assert.deepStrictEqual(inbox.items.map((n) => n.title), ["after", "during", "before"], "stored once each")
  }), { timeout: 120_000 })
