/**
 * `GET /web-config` (public: what the web pages need to know before a user
 * signs in) and `POST /dev/login` (`{"userId":"alice"}` → a 12-hour client
 * token for that user), the development sign-in for trying Herald without an
 * app backend that issues tokens. It is on only with `HERALD_DEV_LOGIN`
 * (default: on the embedded default alone); off, `/dev/login` is 404 as if
 * it did not exist. While it is on, anyone who reaches the port can act as
 * any user through `/rpc/me` and the socket, which the start banner says.
 */
import { DevLoginRequest, DevLoginResponse, DevLoginTtlSeconds, WebConfig } from "@herald/domain"
import { Effect, Schema, SchemaIssue } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { ClientTokens } from "./ClientTokens.ts"
import { problem } from "./Problem.ts"

const decodeRequest = Schema.decodeUnknownEffect(DevLoginRequest)
const encodeResponse = HttpServerResponse.schemaJson(DevLoginResponse)
const encodeWebConfig = HttpServerResponse.schemaJson(WebConfig)
const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

/** The first complaint of a schema issue, with the field it is about (`userId`; `body` for the whole). */
const invalid = (issue: SchemaIssue.Issue) => {
  const first = formatIssue(issue).issues[0]
  const path = first === undefined || first.path === undefined || first.path.length === 0
    ? "body"
    : first.path.map(String).join(".")
  return problem(400, "InvalidRequest", `${path}: ${first?.message ?? "invalid"}`, { path })
}

export const makeDevLoginRoutes = Effect.gen(function*() {
  const config = yield* HeraldConfig
  const tokens = yield* ClientTokens

  const webConfig = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.method !== "GET" && request.method !== "HEAD") return problem(405, "MethodNotAllowed", "GET /web-config")
    return yield* encodeWebConfig(new WebConfig({ devLogin: config.devLogin }), {
      headers: { "cache-control": "no-cache" }
    }).pipe(Effect.orDie)
  })

  const login = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!config.devLogin) {
      return problem(404, "NotFound", `no route ${request.method} /dev/login (the development sign-in is off: HERALD_DEV_LOGIN)`)
    }
    if (request.method !== "POST") return problem(405, "MethodNotAllowed", "POST /dev/login with {\"userId\":\"…\"}")
    const body = yield* Effect.result(request.json)
    if (body._tag === "Failure") return problem(400, "InvalidRequest", "body: expected JSON such as {\"userId\":\"alice\"}", { path: "body" })
    const decoded = yield* Effect.result(decodeRequest(body.success))
    if (decoded._tag === "Failure") return invalid(decoded.failure.issue)
    const { userId } = decoded.success
    const { expiresAt, token } = yield* tokens.issue(userId, DevLoginTtlSeconds)
    // The token is a credential: no cache may keep it.
    return yield* encodeResponse(new DevLoginResponse({ userId, token, expiresAt }), {
      headers: { "cache-control": "no-store" }
    }).pipe(Effect.orDie)
  }).pipe(Effect.withSpan("DevLogin.login"))

  return { login, webConfig }
})
