/**
 * Rate limits at the edge, on effect/persistence's `RateLimiter` (token
 * bucket): RPC calls per API key and socket upgrades per client IP.
 *
 * With `REDIS_URL` set the buckets live in Redis (SharedRateLimitStore), so a
 * key's budget is one budget for the whole cluster rather than the limit
 * times the number of nodes; on one node they live in memory.
 *
 * If the shared store fails, or does not answer within `SharedTimeout`, the
 * check is made against this node's own buckets instead (counted in
 * `herald_rate_limit_fallbacks_total`): a Redis outage refuses no call and
 * (the client has no offline queue) delays none, a slow Redis delays a call
 * by `SharedTimeout` at most, and the edge is still limited, per node, while
 * it lasts.
 */
import { Context, Duration, Effect, Layer, Option } from "effect"
import { RateLimiter } from "effect/persistence"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { rateLimited, rateLimitFallback } from "../telemetry/Metrics.ts"
import { SharedRateLimitStore } from "./SharedRateLimitStore.ts"

// A Redis round trip is well under a millisecond; far past that the store is in trouble.
const SharedTimeout = Duration.millis(100)

/** How long to wait before trying again, in milliseconds; `undefined` when the call may go ahead. */
export type RetryAfter = number | undefined

type Limit = "rpc" | "connect"

const localLimiter = RateLimiter.make.pipe(Effect.provide(RateLimiter.layerStoreMemory))

export class EdgeRateLimits extends Context.Service<EdgeRateLimits, {
  rpcCall(keyId: string): Effect.Effect<RetryAfter>
  socketUpgrade(ip: string): Effect.Effect<RetryAfter>
}>()("@herald/server/gateway/EdgeRateLimits") {
  static readonly layer = Layer.unwrap(Effect.map(HeraldConfig, (config) =>
    Option.match(config.redisUrl, {
      onNone: () => Layer.effect(EdgeRateLimits, make(Option.none())),
      onSome: (url) =>
        Layer.effect(EdgeRateLimits, Effect.flatMap(RateLimiter.RateLimiter, (shared) => make(Option.some(shared)))).pipe(
          Layer.provide(RateLimiter.layer),
          Layer.provide(SharedRateLimitStore(url))
        )
    })))
}

const make = Effect.fnUntraced(function*(shared: Option.Option<RateLimiter.RateLimiter>) {
  const config = yield* HeraldConfig
  const local = yield* localLimiter

  const consume = (limiter: RateLimiter.RateLimiter, what: Limit, key: string, perSecond: number) =>
    limiter.consume({ algorithm: "token-bucket", window: Duration.seconds(1), limit: perSecond, key: `${what}:${key}` }).pipe(
      Effect.as<RetryAfter>(undefined),
      Effect.catchReason("RateLimiterError", "RateLimitExceeded", (exceeded) =>
        rateLimited(what).pipe(Effect.as(Math.max(1, Math.ceil(Duration.toMillis(exceeded.retryAfter))))))
    )
  // The memory store cannot fail; were it to, a limiter fault must not refuse calls.
  const checkLocal = (what: Limit, key: string, perSecond: number): Effect.Effect<RetryAfter> =>
    consume(local, what, key, perSecond).pipe(Effect.catch(() => Effect.succeed(undefined)))
  const fallBack = (what: Limit, key: string, perSecond: number) =>
    rateLimitFallback(what).pipe(Effect.andThen(checkLocal(what, key, perSecond)))

  const check = (what: Limit, key: string, perSecond: number): Effect.Effect<RetryAfter> =>
    perSecond === 0
      ? Effect.succeed(undefined)
      : Option.match(shared, {
        onNone: () => checkLocal(what, key, perSecond),
        onSome: (limiter) =>
          consume(limiter, what, key, perSecond).pipe(
            Effect.catch(() => fallBack(what, key, perSecond)),
            Effect.timeoutOrElse({ duration: SharedTimeout, orElse: () => fallBack(what, key, perSecond) })
          )
      })
  return EdgeRateLimits.of({
    rpcCall: (keyId) => check("rpc", keyId, config.limits.rpcPerKey),
    socketUpgrade: (ip) => check("connect", ip, config.limits.connectsPerIp)
  })
})
