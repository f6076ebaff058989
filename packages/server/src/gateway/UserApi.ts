/**
 * `POST /rpc/me`: the user-scoped RPC group (`UserRpcs`) for an end user's
 * own page or app, authenticated by a client token. A request whose token is
 * missing, wrong or expired gets HTTP 401 before the RPC server sees it.
 *
 * It is a service of its own, rather than built in `HttpApp` beside the app
 * group, because both groups have RPCs of the same names (`ListInbox`, …)
 * and effect/rpc keys handlers by name: each group's server must be built
 * where only its own handlers are in context (`Main` provides them to this
 * layer alone).
 */
import { UserRpcs } from "@herald/domain"
import { Context, Effect, Layer, type Scope } from "effect"
import { HttpServerRequest, type HttpServerResponse } from "effect/http"
import { RpcServer } from "effect/rpc"
import { bearerCredential } from "./Bearer.ts"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { ClientTokens } from "./ClientTokens.ts"
import { EdgeRateLimits } from "./EdgeRateLimits.ts"
import { problem, tooManyRequests } from "./Problem.ts"
import { refuseRpcBody } from "./RpcBody.ts"

export class UserApi extends Context.Service<UserApi, {
  /** Answers one `/rpc/me` request. */
  readonly handle: Effect.Effect<HttpServerResponse.HttpServerResponse, never, Scope.Scope | HttpServerRequest.HttpServerRequest>
}>()("@herald/server/gateway/UserApi") {
  static readonly layer = Layer.effect(UserApi, Effect.gen(function*() {
    const tokens = yield* ClientTokens
    const limits = yield* EdgeRateLimits
    const maxBody = (yield* HeraldConfig).limits.requestBody
    const rpc = yield* RpcServer.toHttpEffect(UserRpcs.UserRpcs, { spanPrefix: "UserRpc" })

    const handle = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (request.method !== "POST") return problem(405, "MethodNotAllowed", "RPC calls are POST requests")
      const credential = bearerCredential(request.headers["authorization"])
      if (credential === undefined) {
        return problem(401, "Unauthorized", "missing client token: send Authorization: Bearer <client token>")
      }
      const verified = yield* Effect.result(tokens.verify(credential))
      if (verified._tag === "Failure") {
        return problem(401, "Unauthorized", `client token refused: ${verified.failure.message}`, {
          reason: verified.failure.reason
        })
      }
      // Per user rather than per token: a user's budget does not grow with the tokens they hold.
      const retryAfter = yield* limits.rpcCall(`user:${verified.success.userId}`)
      if (retryAfter !== undefined) return tooManyRequests(retryAfter)
      return (yield* refuseRpcBody(maxBody)) ?? (yield* rpc)
    })

    return UserApi.of({ handle })
  }))
}
