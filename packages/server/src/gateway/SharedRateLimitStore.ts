/**
 * The rate-limit buckets a cluster shares: effect/persistence's Redis store
 * (one Lua script per check, so a check is one atomic round trip) at
 * `REDIS_URL`, under the `herald:ratelimit:` prefix.
 *
 * The client behind it is set up to fail fast rather than wait, because a
 * limiter that waits holds up every call it guards:
 * - no offline queue: a check made while Redis is away fails at once
 *   (EdgeRateLimits then uses the node's own buckets) instead of queueing
 *   until the reconnect;
 * - reconnects are retried for as long as the node runs, with capped backoff
 *   (NodeRedis's default strategy gives up for good after a socket timeout);
 * - on shutdown the client is destroyed, not closed: `close()` waits for
 *   every pending reply, which never comes while Redis is down, and that is
 *   what hung a node's shutdown when this store was first tried.
 * An outage is logged once when it starts and once when it ends, not per
 * reconnect attempt.
 */
import { ConfigurationError } from "@herald/domain"
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { Effect, FiberSet, Layer, Redacted, References } from "effect"
import { RateLimiter } from "effect/persistence"

const MaxReconnectDelayMillis = 2_000
const ConnectTimeoutMillis = 2_000

const errorMessage = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

interface Connection {
  /** Set once the first connect succeeded: before it a failure fails the layer, after it reconnects are retried. */
  started: boolean
}

/** Logs outages (NodeRedis's own per-error warnings are silenced below); destroys the client first on release. */
const clientPolicy = (connection: Connection) => Layer.effectDiscard(Effect.gen(function*() {
  const { client } = yield* NodeRedis.NodeRedis
  connection.started = true
  const run = yield* FiberSet.makeRuntime()
  let up = true
  client.on("error", (cause: unknown) => {
    if (up) run(Effect.logWarning("rate-limit Redis unreachable; each node limits on its own until it is back", errorMessage(cause)))
    up = false
  })
  client.on("ready", () => {
    if (!up) run(Effect.logInfo("rate-limit Redis back; limits are shared across the cluster again"))
    up = true
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => client.isOpen && client.destroy()))
}))

/** The shared store at `url`; fails with `ConfigurationError` when Redis cannot be reached at start. */
export const SharedRateLimitStore = (url: Redacted.Redacted<string>): Layer.Layer<RateLimiter.RateLimiterStore, ConfigurationError> =>
  Layer.suspend(() => {
    const connection: Connection = { started: false }
    return Layer.merge(RateLimiter.layerStoreRedis({ prefix: "herald:ratelimit:" }), clientPolicy(connection)).pipe(
      Layer.provide(NodeRedis.layer({
        url: Redacted.value(url),
        disableOfflineQueue: true,
        socket: {
          connectTimeout: ConnectTimeoutMillis,
          reconnectStrategy: (retries: number, cause: Error) =>
            connection.started
              ? Math.min(2 ** retries * 50, MaxReconnectDelayMillis) + Math.floor(Math.random() * 100)
              : cause
        }
      }).pipe(
        // It warns on every failed reconnect attempt, several a second; clientPolicy logs the outage once.
        Layer.provide(Layer.succeed(References.MinimumLogLevel, "Error"))
      )),
      Layer.catchTag("RedisError", (error) =>
        Layer.effect(
          RateLimiter.RateLimiterStore,
          Effect.fail(new ConfigurationError({ message: `rate-limit Redis (REDIS_URL) cannot be reached: ${errorMessage(error.cause)}` }))
        ))
    )
  })
