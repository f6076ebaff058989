/**
 * The edge limits, each at a small setting so a test can reach it: RPC
 * calls per key (429 with Retry-After, `RateLimited` in the client), request
 * body size (413), socket origins (403), sockets and upgrades per IP (429
 * before the upgrade), sockets per user and frames per socket (error frame
 * with retryAfterMs, then 4429). Every refusal names the limit and says when
 * to come back; nothing refused is half-done.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client/HeraldClient"
import { Context, Effect, Exit, Layer } from "effect"
import { WebSocket } from "ws"
import { openRaw } from "../support/RawSocket.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { apiKey, testServer, type TestServerOptions } from "../support/TestServer.ts"

const serverWith = (options: Omit<TestServerOptions, "databaseUrl">) =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url, ...options })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    return { server, client }
  })

/** Tries a socket upgrade; resolves to "open" or the HTTP status the server refused it with. */
const upgrade = (url: string, headers: Record<string, string> = {}) =>
  Effect.callback<{ readonly outcome: "open"; readonly ws: WebSocket } | { readonly outcome: number; readonly body: string }>((resume) => {
    const ws = new WebSocket(url, { headers })
    ws.on("open", () => resume(Effect.succeed({ outcome: "open", ws })))
    ws.on("unexpected-response", (_request, response) => {
      let body = ""
      response.on("data", (chunk: Buffer) => (body += chunk.toString()))
      response.on("end", () => resume(Effect.succeed({ outcome: response.statusCode ?? 0, body })))
    })
    ws.on("error", () => undefined)
  })

it.live("RPC calls past the per-key rate get 429 with Retry-After, and the typed client sees RateLimited", () =>
  Effect.gen(function*() {
    const { client, server } = yield* serverWith({ limits: { rpcPerKey: 5 } })
    const results = yield* Effect.forEach(
      Array.from({ length: 12 }, (_, i) => i),
      (i) => Effect.exit(client.notify({ userId: "lim-user", kind: "mention", title: `burst ${i}`, idempotencyKey: `burst-${i}` })),
      // One after another, so each is a call of its own: publishes made at once would share calls.
      { concurrency: 1 }
    )
    const limited = results.filter(Exit.isFailure)
    assert.isAtLeast(limited.length, 1)
    assert.isAtMost(results.length - limited.length, 6)
    for (const exit of limited) {
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) continue
      const error = exit.cause.reasons[0]
      assert.strictEqual(error?._tag, "Fail")
      if (error?._tag !== "Fail") continue
      assert.strictEqual(error.error._tag, "RateLimited")
      if (error.error._tag === "RateLimited") assert.isAtLeast(error.error.retryAfterMs, 1000)
    }
    const raw = yield* Effect.promise(() =>
      fetch(`${server.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ _tag: "Request", id: "1", tag: "ListInbox", payload: { userId: "lim-user" }, headers: [] })
      }).then(async (response) => ({ status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() }))
    )
    assert.strictEqual(raw.status, 429)
    assert.isNotNull(raw.retryAfter)
    assert.deepInclude(raw.body, { error: "RateLimited" })
    // A refused call stored nothing: only the admitted ones are in the inbox.
    yield* Effect.sleep("1100 millis")
    const inbox = yield* client.listInbox({ userId: "lim-user", limit: 50 })
    assert.strictEqual(inbox.items.length, results.length - limited.length)
  }), { timeout: 60_000 })

it.live("a request body over the limit is refused with 413 before it is read", () =>
  Effect.gen(function*() {
    const { server } = yield* serverWith({ limits: { requestBody: 10_000 } })
    const status = yield* Effect.promise(() =>
      fetch(`${server.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ padding: "x".repeat(20_000) })
      }).then(async (response) => ({ status: response.status, body: await response.text() }))
    )
    assert.strictEqual(status.status, 413)
    assert.include(status.body, "HERALD_MAX_REQUEST_BYTES")
  }), { timeout: 60_000 })

it.live("a socket from an origin outside the allow list is refused with 403; listed origins and origin-less clients get in", () =>
  Effect.gen(function*() {
    const { server } = yield* serverWith({ allowedOrigins: ["https://app.example.com"] })
    const evil = yield* upgrade(server.wsUrl, { origin: "https://evil.example.com" })
    assert.strictEqual(evil.outcome, 403)
    if (evil.outcome !== "open") assert.include(evil.body, "https://evil.example.com")
    for (const headers of [{ origin: "https://app.example.com" }, {}]) {
      const allowed = yield* upgrade(server.wsUrl, headers)
      assert.strictEqual(allowed.outcome, "open")
      if (allowed.outcome === "open") allowed.ws.terminate()
    }
  }), { timeout: 60_000 })

it.live("past the sockets per IP, and past the upgrades per second per IP, upgrades get 429 with Retry-After", () =>
  Effect.gen(function*() {
    const { server } = yield* serverWith({ limits: { socketsPerIp: 3, connectsPerIp: 0 } })
    const open = yield* Effect.forEach([1, 2, 3], () => upgrade(server.wsUrl))
    assert.deepStrictEqual(open.map((o) => o.outcome), ["open", "open", "open"])
    const fourth = yield* upgrade(server.wsUrl)
    assert.strictEqual(fourth.outcome, 429)
    const first = open[0]
    if (first?.outcome === "open") first.ws.close()
    yield* Effect.sleep("200 millis")
    const again = yield* upgrade(server.wsUrl)
    assert.strictEqual(again.outcome, "open")
    for (const o of [...open, again]) if (o.outcome === "open") o.ws.terminate()

    const { server: rated } = yield* serverWith({ limits: { connectsPerIp: 3 } })
    const burst = yield* Effect.forEach(Array.from({ length: 8 }, (_, i) => i), () => upgrade(rated.wsUrl), { concurrency: 8 })
    const refused = burst.filter((o) => o.outcome === 429)
    assert.isAtLeast(refused.length, 4)
    assert.isAtMost(burst.length - refused.length, 4)
    for (const o of burst) if (o.outcome === "open") o.ws.terminate()
  }), { timeout: 60_000 })

it.live("a user past their sockets gets too_many_sockets and 4429; their other sockets stay live", () =>
  Effect.gen(function*() {
    const { client, server } = yield* serverWith({ limits: { socketsPerUser: 2 } })
    const token = (yield* client.issueClientToken("lim-many")).token
    const sockets = yield* Effect.forEach([1, 2], () =>
      Effect.gen(function*() {
        const socket = yield* openRaw(server.wsUrl)
        yield* socket.sendJson({ type: "auth", token })
        yield* socket.until("synced")
        return socket
      }))
    const third = yield* openRaw(server.wsUrl)
    yield* third.sendJson({ type: "auth", token })
    const refused = yield* third.until("error")
    assert.deepInclude(refused.at(-1), { code: "too_many_sockets" })
    assert.isAtLeast(Number(refused.at(-1)?.["retryAfterMs"]), 1)
    assert.strictEqual(yield* third.closed(), 4429)
    yield* client.notify({ userId: "lim-many", kind: "mention", title: "to both" })
    for (const socket of sockets) {
      const frames = yield* socket.until("notification")
      assert.deepInclude(frames.at(-1), { type: "notification" })
    }
  }), { timeout: 60_000 })

it.live("frames past a socket's rate are dropped with one rate_limited frame; a flood is closed with 4429", () =>
  Effect.gen(function*() {
    const { client, server } = yield* serverWith({ limits: { framesPerSocket: 5 } })
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("lim-frames")).token })
    yield* socket.until("synced")
    // The auth frame took one of five; the next four pings are answered, the rest refused.
    for (let i = 0; i < 10; i++) yield* socket.sendJson({ type: "ping" })
    const answers = yield* Effect.forEach(Array.from({ length: 5 }, (_, i) => i), () => socket.next())
    const pongs = answers.filter((frame) => frame.type === "pong")
    const errors = answers.filter((frame) => frame.type === "error")
    assert.strictEqual(pongs.length, 4)
    assert.strictEqual(errors.length, 1)
    assert.deepInclude(errors[0], { code: "rate_limited" })
    assert.isAtLeast(Number(errors[0]?.["retryAfterMs"]), 1)

    const flooder = yield* openRaw(server.wsUrl)
    yield* flooder.sendJson({ type: "auth", token: (yield* client.issueClientToken("lim-flood")).token })
    yield* flooder.until("synced")
    for (let i = 0; i < 100; i++) yield* flooder.sendJson({ type: "ping" })
    assert.strictEqual(yield* flooder.closed(), 4429)
  }), { timeout: 60_000 })
