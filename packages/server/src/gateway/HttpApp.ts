/**
 * The HTTP routes: `/rpc` (the app RPC group, API key required), `/rpc/admin`
 * (the admin group, admin key required), `/unsubscribe` (one-click email
 * unsubscribe, by a signed link), `/metrics` (Prometheus text, admin key), `/healthz`
 * (the process is up) and `/readyz` (it can reach its database).
 */
import { AdminRpcs, AppRpcs } from "@herald/domain"
import { Effect } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { RpcServer } from "effect/rpc"
import { SqlClient } from "effect/sql"
import { ApiKeys } from "./ApiKeys.ts"
import { makeUnsubscribeRoute } from "./UnsubscribeRoute.ts"

export const makeHttpApp = Effect.gen(function*() {
  const keys = yield* ApiKeys
  const sql = yield* SqlClient.SqlClient
  const rpc = yield* RpcServer.toHttpEffect(AppRpcs.AppRpcs, { spanPrefix: "Rpc" })
  const adminRpc = yield* RpcServer.toHttpEffect(AdminRpcs.AdminRpcs, { spanPrefix: "AdminRpc" })
  const unsubscribe = yield* makeUnsubscribeRoute

  const problem = (status: number, error: string, message: string) =>
    HttpServerResponse.jsonUnsafe({ error, message }, { status })

  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = request.url.split("?", 1)[0]
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
        const scope = keys.scopeOf(request.headers["authorization"])
        if (scope === undefined) {
          return problem(401, "Unauthorized", "missing or wrong API key: send Authorization: Bearer <HERALD_API_KEY>")
        }
        return yield* rpc
      }
      case "/rpc/admin": {
        if (request.method !== "POST") return problem(405, "MethodNotAllowed", "RPC calls are POST requests")
        if (keys.scopeOf(request.headers["authorization"]) !== "admin") {
          return problem(401, "Unauthorized", "missing or wrong admin key: send Authorization: Bearer <HERALD_ADMIN_KEY>")
        }
        return yield* adminRpc
      }
      case "/metrics": {
        // Prometheus scrapes with the admin key as a bearer token (`authorization` in its scrape config).
        if (keys.scopeOf(request.headers["authorization"]) !== "admin") {
          return problem(401, "Unauthorized", "metrics need the admin key: send Authorization: Bearer <HERALD_ADMIN_KEY>")
        }
        return HttpServerResponse.text(yield* PrometheusMetrics.format(), {
          contentType: "text/plain; version=0.0.4; charset=utf-8"
        })
      }
      case "/unsubscribe":
        return yield* unsubscribe
      default:
        return problem(404, "NotFound", `no route ${request.method} ${path}`)
    }
  })
})
