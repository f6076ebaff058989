/**
 * Rate limits at the edge, on effect/persistence's `RateLimiter` (token
 * bucket): RPC calls per API key and socket upgrades per client IP.
 *
 * The buckets live in each node's memory, so in a cluster a key's budget is
 * per node (a load balancer spreads a caller over the nodes). The Redis store
 * effect/persistence offers was tried: after a Redis restart its client left
 * calls waiting (test/cluster/presence.test.ts hung), and a limiter must
 * never hold up a notification, so the buckets stay in memory until a shared
 * store can be shown to fail fast.
 */
import { Context, Duration, Effect, Layer } from "effect"
import { RateLimiter } from "effect/persistence"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { rateLimited } from "../telemetry/Metrics.ts"

/** How long to wait before trying again, in milliseconds; `undefined` when the call may go ahead. */
export type RetryAfter = number | undefined

export class EdgeRateLimits extends Context.Service<EdgeRateLimits, {
  rpcCall(keyId: string): Effect.Effect<RetryAfter>
  socketUpgrade(ip: string): Effect.Effect<RetryAfter>
}>()("@herald/server/gateway/EdgeRateLimits") {
  static readonly layer = Layer.effect(EdgeRateLimits, Effect.gen(function*() {
    const config = yield* HeraldConfig
    const limiter = yield* RateLimiter.RateLimiter
    const check = (what: "rpc" | "connect", key: string, perSecond: number): Effect.Effect<RetryAfter> =>
      perSecond === 0
        ? Effect.succeed(undefined)
        : limiter.consume({ algorithm: "token-bucket", window: Duration.seconds(1), limit: perSecond, key: `${what}:${key}` }).pipe(
          Effect.as<RetryAfter>(undefined),
          Effect.catchReason("RateLimiterError", "RateLimitExceeded", (exceeded) =>
            rateLimited(what).pipe(Effect.as(Math.max(1, Math.ceil(Duration.toMillis(exceeded.retryAfter)))))),
          // The memory store does not fail; were it to, a limiter fault must not refuse calls.
          Effect.catch((error) => Effect.logWarning("rate limiter failed; letting the call through", error.message).pipe(Effect.as(undefined)))
        )
    return EdgeRateLimits.of({
      rpcCall: (keyId) => check("rpc", keyId, config.limits.rpcPerKey),
      socketUpgrade: (ip) => check("connect", ip, config.limits.connectsPerIp)
    })
  })).pipe(Layer.provide(RateLimiter.layer), Layer.provide(RateLimiter.layerStoreMemory))
}
