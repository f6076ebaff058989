/**
 * Rate limits at the edge, on effect/persistence's `RateLimiter`: RPC calls
 * per API key and socket upgrades per client IP. In a cluster the counters
 * live in Redis, so a key's budget is shared by every node rather than
 * multiplied by their number; on one node they live in memory.
 *
 * If Redis cannot answer, or not within `StoreTimeout`, the call is let
 * through (and that logged, at most every 10 s): a limiter outage or a slow
 * Redis must not become a notification outage or add its latency to every
 * call, and Redis trouble already shows on every other path.
 */
import { ConfigurationError } from "@herald/domain"
import { Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { RateLimiter } from "effect/persistence"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { rateLimited } from "../telemetry/Metrics.ts"

// A Redis round trip is well under a millisecond; far past that the store is in trouble.
const StoreTimeout = Duration.millis(100)
const WarnEvery = 10_000

/** How long to wait before trying again, in milliseconds; `undefined` when the call may go ahead. */
export type RetryAfter = number | undefined

export class EdgeRateLimits extends Context.Service<EdgeRateLimits, {
  rpcCall(keyId: string): Effect.Effect<RetryAfter>
  socketUpgrade(ip: string): Effect.Effect<RetryAfter>
}>()("@herald/server/gateway/EdgeRateLimits") {
  static readonly layer = Layer.effect(EdgeRateLimits, Effect.gen(function*() {
    const config = yield* HeraldConfig
    const limiter = yield* RateLimiter.RateLimiter
    let warnedAt = 0
    const letThrough = (why: string): Effect.Effect<RetryAfter> =>
      Effect.suspend(() => {
        const now = Date.now()
        if (now - warnedAt < WarnEvery) return Effect.succeed(undefined)
        warnedAt = now
        return Effect.logWarning("rate limiter unavailable; letting calls through", why).pipe(Effect.as(undefined))
      })
    const check = (what: "rpc" | "connect", key: string, perSecond: number): Effect.Effect<RetryAfter> =>
      perSecond === 0
        ? Effect.succeed(undefined)
        : limiter.consume({ algorithm: "token-bucket", window: Duration.seconds(1), limit: perSecond, key: `${what}:${key}` }).pipe(
          Effect.as(undefined),
          Effect.catchReason("RateLimiterError", "RateLimitExceeded", (exceeded) =>
            rateLimited(what).pipe(Effect.as(Math.max(1, Math.ceil(Duration.toMillis(exceeded.retryAfter)))))),
          Effect.catch((error) => letThrough(error.message)),
          Effect.timeoutOrElse({ duration: StoreTimeout, orElse: () => letThrough(`no answer within ${Duration.format(StoreTimeout)}`) })
        )
    return EdgeRateLimits.of({
      rpcCall: (keyId) => check("rpc", keyId, config.limits.rpcPerKey),
      socketUpgrade: (ip) => check("connect", ip, config.limits.connectsPerIp)
    })
  })).pipe(
    Layer.provide(RateLimiter.layer),
    Layer.provide(Layer.unwrap(Effect.map(HeraldConfig, (config) =>
      Option.match(config.redisUrl, {
        onNone: () => RateLimiter.layerStoreMemory,
        onSome: (url) =>
          RateLimiter.layerStoreRedis({ prefix: "herald:ratelimit:" }).pipe(
            Layer.provide(NodeRedis.layer({ url: Redacted.value(url) })),
            Layer.catchTag("RedisError", (error) =>
              Layer.effect(RateLimiter.RateLimiterStore, Effect.fail(new ConfigurationError({ message: `rate-limit Redis (REDIS_URL) cannot be reached: ${error.message}` }))))
          )
      })
    )))
  )
}
