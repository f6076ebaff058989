/**
 * `herald token revoke --user U`: the user's sockets close with 4401 on
 * every node of a cluster (the revocation is made on one node, the other
 * learns it from the database), their old tokens are refused on new sockets
 * and on `/rpc/me`, other users are untouched, and a token issued after the
 * revocation works.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client/HeraldClient"
import { Context, Effect, Layer } from "effect"
import { lines, runCli } from "../support/HeraldCli.ts"
import { privateRedis } from "../support/PrivateRedis.ts"
import { openRaw, type RawSocket } from "../support/RawSocket.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const authenticated = (wsUrl: string, token: string) =>
  Effect.gen(function*() {
    const socket = yield* openRaw(wsUrl)
    yield* socket.sendJson({ type: "auth", token })
    yield* socket.until("synced")
    return socket
  })

/** Waits for the socket's close; returns the code, the error frame before it, and how long it took. */
const closing = (socket: RawSocket, since: number) =>
  Effect.gen(function*() {
    const frames = yield* socket.until("error", "5 seconds")
    const code = yield* socket.closed("5 seconds")
    return { code, error: frames.at(-1), afterMs: Date.now() - since }
  })

it.live("a revocation closes the user's sockets on both nodes, refuses the old token and leaves other users alone", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const a = yield* testServer({ databaseUrl: database.url, redisUrl: redis.url })
    const b = yield* testServer({ databaseUrl: database.url, redisUrl: redis.url })
    const client = yield* Layer.build(HeraldClient.layer({ url: a.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const oldToken = (yield* client.issueClientToken("rv-alice")).token
    const bobToken = (yield* client.issueClientToken("rv-bob")).token
    const onA = yield* authenticated(a.wsUrl, oldToken)
    const onB = yield* authenticated(b.wsUrl, oldToken)
    const bob = yield* authenticated(b.wsUrl, bobToken)

    const started = Date.now()
    const revoked = yield* runCli(["token", "revoke", "--user", "rv-alice", "--json", "--url", a.url, "--admin-key", adminKey])
    assert.strictEqual(revoked.code, 0, revoked.stderr)
    const printed: unknown = JSON.parse(lines(revoked.stdout)[0] ?? "null")
    assert.deepInclude(printed, { userId: "rv-alice" })

    const [closedA, closedB] = yield* Effect.all([closing(onA, started), closing(onB, started)], { concurrency: 2 })
    for (const closed of [closedA, closedB]) {
      assert.strictEqual(closed.code, 4401)
      assert.deepInclude(closed.error, { type: "error", code: "invalid_token" })
    }
    // Measured, not asserted (no wall-clock limits in tests): the figure docs/security.md quotes.
    console.log(`revocation closed sockets after ${closedA.afterMs} ms (same node, including the CLI) and ${closedB.afterMs} ms (other node)`)

    // The old token is refused everywhere from now on.
    const again = yield* openRaw(b.wsUrl)
    yield* again.sendJson({ type: "auth", token: oldToken })
    const refused = yield* again.until("error")
    assert.deepInclude(refused.at(-1), { code: "invalid_token" })
    assert.strictEqual(yield* again.closed(), 4401)
    const me = yield* Effect.promise(() =>
      fetch(`${a.url}/rpc/me`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${oldToken}` },
        body: JSON.stringify({ _tag: "Request", id: "1", tag: "ListInbox", payload: {}, headers: [] })
      }).then((response) => response.status)
    )
    assert.strictEqual(me, 401)

    // Bob's socket never noticed: a notification still reaches him live.
    yield* client.notify({ userId: "rv-bob", kind: "mention", title: "still here" })
    const frames = yield* bob.until("notification")
    assert.deepInclude(frames.at(-1), { type: "notification" })

    // Token times have one-second precision: a token from the next second on is accepted.
    yield* Effect.sleep("1100 millis")
    const fresh = (yield* client.issueClientToken("rv-alice")).token
    const back = yield* authenticated(a.wsUrl, fresh)
    yield* client.notify({ userId: "rv-alice", kind: "mention", title: "after revocation" })
    const live = yield* back.until("notification")
    assert.deepInclude(live.at(-1), { type: "notification" })
  }), { timeout: 90_000 })

it.live("revoking needs the admin key", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url })
    const refused = yield* runCli(["token", "revoke", "--user", "rv-carol", "--url", server.url, "--admin-key", apiKey])
    assert.notStrictEqual(refused.code, 0)
    assert.include(refused.stderr, "unauthorized")
  }), { timeout: 60_000 })
