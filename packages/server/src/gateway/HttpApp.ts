/**
 * The HTTP routes: `/rpc` (the app RPC group, API key required), `/rpc/admin`
 * (the admin group, admin key required), `/rpc/me` (the user group, client
 * token required), `/unsubscribe` (one-click email unsubscribe, by a signed
 * link), `/metrics` (Prometheus text, admin key), `/healthz` (the process is
 * up), `/readyz` (it can reach its database), `/web-config` and `/dev/login`
 * (the web pages' sign-in), and the web UI: `/`, `/preferences`, `/admin`,
 * `/assets/…`.
 */
import { AdminRpcs, AppRpcs } from "@herald/domain"
import { ByteSize, Effect } from "effect"
import { HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { RpcServer } from "effect/rpc"
import { SqlClient } from "effect/sql"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { ApiKeys } from "./ApiKeys.ts"
import { makeDevLoginRoutes } from "./DevLogin.ts"
import { EdgeRateLimits } from "./EdgeRateLimits.ts"
import { problem, tooManyRequests } from "./Problem.ts"
import { refuseRpcBody } from "./RpcBody.ts"
import { makeUnsubscribeRoute } from "./UnsubscribeRoute.ts"
import { UserApi } from "./UserApi.ts"
import { makeWebAssets } from "./WebAssets.ts"

const AssetsPrefix = "/assets/"

export const makeHttpApp = Effect.gen(function*() {
  const keys = yield* ApiKeys
  const limits = yield* EdgeRateLimits
  const sql = yield* SqlClient.SqlClient
  const rpc = yield* RpcServer.toHttpEffect(AppRpcs.AppRpcs, { spanPrefix: "Rpc" })
  const adminRpc = yield* RpcServer.toHttpEffect(AdminRpcs.AdminRpcs, { spanPrefix: "AdminRpc" })
  const unsubscribe = yield* makeUnsubscribeRoute
  const userApi = yield* UserApi
  const devLogin = yield* makeDevLoginRoutes
  const web = yield* makeWebAssets
  const maxBody = (yield* HeraldConfig).limits.requestBody

  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = request.url.split("?", 1)[0]
    // Refused before a byte of the body is read; a chunked body without a length is cut off at
    // the same size by MaxBodySize below.
    const length = Number(request.headers["content-length"] ?? "0")
    if (length > maxBody) {
      return problem(413, "PayloadTooLarge", `request bodies are limited to ${maxBody} bytes (HERALD_MAX_REQUEST_BYTES)`)
    }
    switch (path) {
      case "/healthz":
        return HttpServerResponse.jsonUnsafe({ status: "ok" })
      case "/readyz":
        return yield* sql`SELECT 1`.pipe(
          Effect.as(HttpServerResponse.jsonUnsafe({ status: "ready" })),
          Effect.catch(() => Effect.succeed(problem(503, "NotReady", "the database cannot be reached")))
        )
      case "/rpc": {
        if (request.method !== "POST") return problem(405, "MethodNotAllowed", "RPC calls are POST requests")
        const principal = keys.principalOf(request.headers["authorization"])
        if (principal === undefined) {
          return problem(401, "Unauthorized", "missing or wrong API key: send Authorization: Bearer <HERALD_API_KEY>")
        }
        const retryAfter = yield* limits.rpcCall(principal.keyId)
        if (retryAfter !== undefined) return tooManyRequests(retryAfter)
        return (yield* refuseRpcBody(maxBody)) ?? (yield* rpc)
      }
      case "/rpc/admin": {
        if (request.method !== "POST") return problem(405, "MethodNotAllowed", "RPC calls are POST requests")
        const principal = keys.principalOf(request.headers["authorization"])
        if (principal?.scope !== "admin") {
          return problem(401, "Unauthorized", "missing or wrong admin key: send Authorization: Bearer <HERALD_ADMIN_KEY>")
        }
        const retryAfter = yield* limits.rpcCall(principal.keyId)
        if (retryAfter !== undefined) return tooManyRequests(retryAfter)
        return (yield* refuseRpcBody(maxBody)) ?? (yield* adminRpc)
      }
      case "/rpc/me":
        return yield* userApi.handle
      case "/metrics": {
        // Prometheus scrapes with the admin key as a bearer token (`authorization` in its scrape config).
        if (keys.principalOf(request.headers["authorization"])?.scope !== "admin") {
          return problem(401, "Unauthorized", "metrics need the admin key: send Authorization: Bearer <HERALD_ADMIN_KEY>")
        }
        return HttpServerResponse.text(yield* PrometheusMetrics.format(), {
          contentType: "text/plain; version=0.0.4; charset=utf-8"
        })
      }
      case "/unsubscribe":
        return yield* unsubscribe
      case "/web-config":
        return yield* devLogin.webConfig
      case "/dev/login":
        return yield* devLogin.login
      case "/":
      case "/preferences":
      case "/admin":
        return yield* web.page(path)
      default:
        if (path?.startsWith(AssetsPrefix)) return yield* web.asset(path.slice(AssetsPrefix.length))
        return problem(404, "NotFound", `no route ${request.method} ${path}`)
    }
  }).pipe(Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBody)))
})
