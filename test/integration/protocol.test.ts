/**
 * The socket protocol of docs/protocol.md, checked frame by frame with a
 * bare `ws` client against a real server and database.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SignJWT } from "jose"
import { eventually } from "../support/eventually.ts"
import { Herald } from "../support/Herald.ts"
import { openRaw } from "../support/RawSocket.ts"
import { query } from "../support/TestDatabase.ts"
import { tokenSecret } from "../support/TestServer.ts"

const sign = (claims: { sub: string; aud?: string; iss?: string; exp: number }, secret = tokenSecret) =>
  Effect.promise(() =>
    new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(claims.sub)
      .setAudience(claims.aud ?? "herald:socket")
      .setIssuer(claims.iss ?? "herald")
      .setExpirationTime(claims.exp)
      .sign(new TextEncoder().encode(secret))
  )

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600

layer(Herald.layer({ heartbeat: "400 millis", authTimeout: "500 millis" }), { excludeTestServices: true, timeout: "60 seconds" })(
  "socket protocol",
  (it) => {
    it.effect("a valid token gets ready, then synced with the user's newest cursor", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        yield* herald.client.notify({ userId: "p-ready", kind: "mention", title: "before" })
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.sendJson({ type: "auth", token: yield* herald.token("p-ready") })
        const ready = yield* socket.next()
        assert.deepStrictEqual([ready.type, ready["userId"], ready["cursor"]], ["ready", "p-ready", 1])
        const synced = yield* socket.next()
        assert.deepStrictEqual([synced.type, synced["cursor"]], ["synced", 1])
      }).pipe(Effect.scoped))

    it.effect("a malformed frame gets an error frame naming the problem and the socket stays usable", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.send("this is not json")
        const notJson = yield* socket.next()
        assert.strictEqual(notJson.type, "error")
        assert.strictEqual(notJson["code"], "malformed_frame")
        yield* socket.sendJson({ type: "ack", cursor: -3 })
        const badField = yield* socket.next()
        assert.strictEqual(badField["code"], "malformed_frame")
        assert.include(String(badField["message"]), "cursor")
        yield* socket.sendJson({ type: "auth", token: yield* herald.token("p-malformed") })
        const ready = yield* socket.next()
        assert.strictEqual(ready.type, "ready")
      }).pipe(Effect.scoped))

    it.effect("an ack before authentication is refused with not_authenticated", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.sendJson({ type: "ack", cursor: 1 })
        const error = yield* socket.next()
        assert.strictEqual(error["code"], "not_authenticated")
      }).pipe(Effect.scoped))

    it.effect("an oversized frame closes the socket with 1009", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.send(JSON.stringify({ type: "auth", token: "x".repeat(20 * 1024) }))
        assert.strictEqual(yield* socket.closed(), 1009)
      }).pipe(Effect.scoped))

    it.effect("a token signed with another secret is refused with invalid_token and 4401", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.sendJson({ type: "auth", token: yield* sign({ sub: "p-forged", exp: inAnHour() }, "not-the-secret") })
        const error = yield* socket.next()
        assert.strictEqual(error["code"], "invalid_token")
        assert.strictEqual(yield* socket.closed(), 4401)
      }).pipe(Effect.scoped))

    it.effect("a token for another audience is refused with 4401", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.sendJson({ type: "auth", token: yield* sign({ sub: "p-aud", aud: "someone-else", exp: inAnHour() }) })
        assert.strictEqual((yield* socket.next())["code"], "invalid_token")
        assert.strictEqual(yield* socket.closed(), 4401)
      }).pipe(Effect.scoped))

    it.effect("an expired token is refused with token_expired and 4402", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.sendJson({ type: "auth", token: yield* sign({ sub: "p-expired", exp: Math.floor(Date.now() / 1000) - 60 }) })
        assert.strictEqual((yield* socket.next())["code"], "token_expired")
        assert.strictEqual(yield* socket.closed(), 4402)
      }).pipe(Effect.scoped))

    it.effect("a socket that never authenticates is closed with 4408", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const socket = yield* openRaw(herald.server.wsUrl)
        const error = yield* socket.next()
        assert.strictEqual(error["code"], "timeout")
        assert.strictEqual(yield* socket.closed(), 4408)
      }).pipe(Effect.scoped))

    it.effect("the server pings, a client that answers stays open and a silent one is closed within two intervals", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const answering = yield* openRaw(herald.server.wsUrl, { pings: true })
        const silent = yield* openRaw(herald.server.wsUrl, { pings: true })
        yield* answering.sendJson({ type: "auth", token: yield* herald.token("p-alive") })
        yield* silent.sendJson({ type: "auth", token: yield* herald.token("p-silent") })
        yield* answering.until("synced")
        yield* silent.until("synced")
        // Time is counted in heartbeats: the answering client's pings. The silent client
        // reads frames but never answers, so it must be closed (4408) before the third ping.
        let pingsBeforeClose = 0
        while (silent.ws.readyState === silent.ws.OPEN && pingsBeforeClose < 5) {
          const ping = yield* answering.next("3 seconds")
          assert.strictEqual(ping.type, "ping")
          yield* answering.sendJson({ type: "pong" })
          pingsBeforeClose++
        }
        assert.strictEqual(yield* silent.closed(), 4408)
        assert.isAtMost(pingsBeforeClose, 3, "closed within two heartbeat intervals")
        const ping = yield* answering.next("3 seconds")
        assert.strictEqual(ping.type, "ping", "the answering client keeps its socket")
        assert.strictEqual(answering.ws.readyState, answering.ws.OPEN)
      }).pipe(Effect.scoped))

    it.effect("a client ping is answered with pong", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.sendJson({ type: "ping" })
        assert.strictEqual((yield* socket.next()).type, "pong")
      }).pipe(Effect.scoped))

    it.effect("acks are recorded as the user's acknowledged cursor", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        yield* herald.client.notifyBatch([
          { userId: "p-ack", kind: "mention", title: "one" },
          { userId: "p-ack", kind: "mention", title: "two" }
        ])
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.sendJson({ type: "auth", token: yield* herald.token("p-ack"), resume: 0 })
        const frames = yield* socket.until("synced")
        assert.deepStrictEqual(frames.map((frame) => frame.type), ["ready", "notification", "notification", "synced"])
        yield* socket.sendJson({ type: "ack", cursor: 2 })
        const acked = yield* eventually(
          query<{ acked: string }>(herald.databaseUrl, "SELECT acked_cursor::text AS acked FROM herald_users WHERE user_id = 'p-ack'"),
          (rows) => rows[0]?.acked === "2"
        )
        assert.strictEqual(acked[0]?.acked, "2")
      }).pipe(Effect.scoped))
  }
)
