/**
 * The development sign-in: with `HERALD_DEV_LOGIN` on, `POST /dev/login`
 * answers a 12-hour client token for the user id given, which `/rpc/me`
 * accepts, and a bad user id gets 400 naming the field; with it off the
 * route does not exist (404). `GET /web-config` says which, without a key.
 * It defaults to on only on the embedded default (no `DATABASE_URL`).
 */
import { assert, it } from "@effect/vitest"
import { HeraldUserClient } from "@herald/client"
import { DevLoginResponse, WebConfig } from "@herald/domain"
import { heraldConfig } from "@herald/server/config/HeraldConfig"
import { ConfigProvider, Context, DateTime, Effect, Layer, Schema } from "effect"
import { isAbsolute } from "node:path"
import { testDatabase } from "../support/TestDatabase.ts"
import { testServer } from "../support/TestServer.ts"

const request = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, headers: response.headers, body: await response.text() }
  })

const login = (url: string, body: string) =>
  request(`${url}/dev/login`, { method: "POST", headers: { "content-type": "application/json" }, body })

const serverWith = (devLogin: boolean) =>
  Effect.flatMap(testDatabase, (database) => testServer({ databaseUrl: database.url, devLogin }))

it.live("with dev login on, POST /dev/login signs in any user id with a 12 h client token that /rpc/me accepts", () =>
  Effect.gen(function*() {
    const server = yield* serverWith(true)
    const config = yield* request(`${server.url}/web-config`)
    assert.strictEqual(config.status, 200)
    assert.deepStrictEqual(Schema.decodeUnknownSync(WebConfig)(JSON.parse(config.body)), new WebConfig({ devLogin: true }))

    const answer = yield* login(server.url, JSON.stringify({ userId: "dev-alice" }))
    assert.strictEqual(answer.status, 200, answer.body)
    assert.strictEqual(answer.headers.get("cache-control"), "no-store")
    const session = Schema.decodeUnknownSync(DevLoginResponse)(JSON.parse(answer.body))
    assert.strictEqual(session.userId, "dev-alice")
    const hours = (DateTime.toEpochMillis(session.expiresAt) - Date.now()) / 3_600_000
    assert.approximately(hours, 12, 0.1)

    const me = yield* Layer.build(HeraldUserClient.layer({ url: server.url, token: session.token })).pipe(
      Effect.map(Context.get(HeraldUserClient))
    )
    assert.strictEqual((yield* me.getPreferences()).userId, "dev-alice")
    assert.strictEqual(yield* me.unreadCount(), 0)

    for (const [body, path] of [
      [JSON.stringify({ userId: "" }), "userId"],
      [JSON.stringify({ userId: "has spaces" }), "userId"],
      [JSON.stringify({ userId: 42 }), "userId"],
      [JSON.stringify({ user: "alice" }), "userId"],
      ["\"alice\"", "body"],
      ["not json", "body"]
    ] as const) {
      const refused = yield* login(server.url, body)
      assert.strictEqual(refused.status, 400, `${body}: ${refused.body}`)
      const problem = JSON.parse(refused.body)
      assert.strictEqual(problem.error, "InvalidRequest")
      assert.strictEqual(problem.path, path, body)
      assert.match(problem.message, new RegExp(`^${path}: `), body)
    }
    const get = yield* request(`${server.url}/dev/login`)
    assert.strictEqual(get.status, 405)
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("with dev login off, /dev/login is 404 and /web-config says so", () =>
  Effect.gen(function*() {
    const server = yield* serverWith(false)
    const config = yield* request(`${server.url}/web-config`)
    assert.strictEqual(config.status, 200)
    assert.deepStrictEqual(JSON.parse(config.body), { devLogin: false })
    const answer = yield* login(server.url, JSON.stringify({ userId: "dev-alice" }))
    assert.strictEqual(answer.status, 404, answer.body)
    assert.notInclude(answer.body, "token\"")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.effect("HERALD_DEV_LOGIN defaults to on without DATABASE_URL and off with it; either can be overridden", () =>
  Effect.gen(function*() {
    const parse = (env: Record<string, string>) => heraldConfig.parse(ConfigProvider.fromEnv({ env }))
    const db = { DATABASE_URL: "postgres://db.example/herald" }
    assert.isTrue((yield* parse({})).devLogin, "embedded default")
    assert.isFalse((yield* parse(db)).devLogin, "external database")
    assert.isFalse((yield* parse({ HERALD_DEV_LOGIN: "false" })).devLogin)
    assert.isTrue((yield* parse({ ...db, HERALD_DEV_LOGIN: "true" })).devLogin)
    const webDir = (yield* parse({})).webDir
    assert.isTrue(isAbsolute(webDir) && webDir.endsWith("packages/web/dist"), webDir)
    assert.isTrue(isAbsolute((yield* parse({ HERALD_WEB_DIR: "some/dir" })).webDir), "a relative HERALD_WEB_DIR is resolved")
  }))
