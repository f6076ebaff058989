/**
 * The one place the whole server is composed. `ServerLayer(config)` builds
 * a running Herald from a config layer, which is how `bin.ts` starts it from
 * the environment and how tests start it against their own database.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { type ConfigurationError } from "@herald/domain"
import { type Config, Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import { RpcSerialization } from "effect/rpc"
import { ClusterLayer, isClustered } from "./cluster/ClusterLayer.ts"
import { HeraldConfig } from "./config/HeraldConfig.ts"
import { Secrets } from "./config/Secrets.ts"
import { FanoutBus } from "./fanout/FanoutBus.ts"
import { RedisFanoutBusLayer } from "./fanout/RedisFanoutBus.ts"
import { ApiKeys } from "./gateway/ApiKeys.ts"
import { AdminHandlersLayer } from "./gateway/AdminHandlers.ts"
import { AppHandlersLayer } from "./gateway/AppHandlers.ts"
import { ClientTokens } from "./gateway/ClientTokens.ts"
import { EdgeRateLimits } from "./gateway/EdgeRateLimits.ts"
import { TokenRevocations } from "./gateway/TokenRevocations.ts"
import { HttpServer } from "./gateway/HttpServer.ts"
import { builtWithOnly } from "./gateway/LeanContext.ts"
import { LocalSockets } from "./gateway/LocalSockets.ts"
import { Presence } from "./gateway/Presence.ts"
import { SocketGateway } from "./gateway/SocketGateway.ts"
import { Unsubscribe } from "./gateway/Unsubscribe.ts"
import { UserApi } from "./gateway/UserApi.ts"
import { UserAuthenticationLayer } from "./gateway/UserAuthentication.ts"
import { UserHandlersLayer } from "./gateway/UserHandlers.ts"
import { UserOperations } from "./gateway/UserOperations.ts"
import { UserMailboxLayer } from "./mailbox/UserMailbox.ts"
import { Publisher } from "./publish/Publisher.ts"
import { DatabaseLayer } from "./storage/Database.ts"
import { Channels } from "./channels/Channels.ts"
import { ChannelsLive } from "./channels/ChannelsLive.ts"
import { EmailSender } from "./channels/email/EmailSender.ts"
import { PushSender } from "./channels/push/PushSender.ts"
import { DeliveryWorker } from "./channels/DeliveryWorker.ts"
import { DigestScheduler } from "./digest/DigestScheduler.ts"
import { DeliveryRepo } from "./storage/DeliveryRepo.ts"
import { DigestRepo } from "./storage/DigestRepo.ts"
import { DeviceRepo } from "./storage/DeviceRepo.ts"
import { AckWriter } from "./storage/AckWriter.ts"
import { NotificationRepo } from "./storage/NotificationRepo.ts"
import { NotificationWriter } from "./storage/NotificationWriter.ts"
import { TokenRevocationRepo } from "./storage/TokenRevocationRepo.ts"
import { UserRepo } from "./storage/UserRepo.ts"
import { UserReportRepo } from "./storage/UserReportRepo.ts"
import { TelemetryFromEnv } from "./telemetry/Telemetry.ts"
import { RolloutRepo } from "./storage/RolloutRepo.ts"
import { ReplayRepo } from "./storage/ReplayRepo.ts"
import { Replayer } from "./replay/Replayer.ts"
import { RolloutFlag } from "./rollout/RolloutFlag.ts"
import { RolloutGuard } from "./rollout/RolloutGuard.ts"

/**
 * Redis when `REDIS_URL` is set (frames reach sockets on every node), in-process otherwise;
 * its subscriptions (one per socket) are counted for `Presence`.
 */
const FanoutLayer = LocalSockets.counting(Layer.unwrap(
  Effect.map(HeraldConfig, (config) =>
    Option.match(config.redisUrl, {
      onNone: () => FanoutBus.layerInProcess,
      onSome: RedisFanoutBusLayer
    }))
))

const Core = Layer.mergeAll(
  NotificationRepo.layer,
  NotificationWriter.layer.pipe(Layer.provideMerge(UserRepo.layer)),
  AckWriter.layer,
  DeviceRepo.layer,
  DeliveryRepo.layer,
  DigestRepo.layer,
  RolloutRepo.layer,
  ReplayRepo.layer,
  UserReportRepo.layer,
  FanoutLayer,
  ClientTokens.layer.pipe(Layer.provideMerge(TokenRevocations.layer), Layer.provideMerge(TokenRevocationRepo.layer)),
  Unsubscribe.layer,
  ApiKeys.layer,
  EdgeRateLimits.layer
).pipe(
  Layer.provideMerge(Layer.mergeAll(ClusterLayer, Secrets.layer)),
  Layer.provideMerge(DatabaseLayer)
)

const Banner = Layer.effectDiscard(Effect.gen(function*() {
  const http = yield* HttpServer
  const secrets = yield* Secrets
  const config = yield* HeraldConfig
  yield* Effect.logInfo(
    Option.isNone(config.databaseUrl)
      ? `database: embedded PostgreSQL under ${config.dataDir}/pg`
      : "database: DATABASE_URL"
  )
  if (Option.isSome(secrets.file)) {
    if (secrets.generated) {
      yield* Effect.logInfo(
        `generated secrets in ${secrets.file.value} (keep them; the CLI reads them from there):\n` +
          `  HERALD_API_KEY=${Redacted.value(secrets.apiKey)}\n` +
          `  HERALD_ADMIN_KEY=${Redacted.value(secrets.adminKey)}\n` +
          `  HERALD_TOKEN_SECRET=${Redacted.value(secrets.tokenSecret)}`
      )
    } else {
      yield* Effect.logInfo(`API key, admin key and token secret: ${secrets.file.value}`)
    }
  }
  yield* Effect.logInfo(Option.isSome(config.redisUrl) ? "fan-out: Redis (REDIS_URL)" : "fan-out: in-process")
  yield* Effect.logInfo(
    isClustered(config)
      ? `cluster: runner ${config.cluster.host}:${config.cluster.port}, shards of a silent node move within ${Duration.format(config.cluster.failover)}`
      : "cluster: single runner (set DATABASE_URL and REDIS_URL to run several nodes)"
  )
  yield* Channels.announce
  if (config.devLogin) {
    yield* Effect.logWarning(
      `dev login is on (HERALD_DEV_LOGIN): anyone who can reach ${http.url} can sign in as any user ` +
        "at POST /dev/login; set HERALD_DEV_LOGIN=false wherever that matters"
    )
  }
  yield* Effect.logInfo(`web UI: ${http.url}/ (pages from ${config.webDir})`)
  yield* Effect.logInfo(`Herald ready: RPC ${http.url}/rpc, sockets ws://${config.host}:${http.port}/ws`)
  yield* Effect.addFinalizer(() =>
    Effect.logInfo(
      Option.isNone(config.databaseUrl)
        ? "shutting down: closing sockets (1001), then stopping the embedded PostgreSQL"
        : "shutting down: closing sockets (1001)"
    )
  )
}))

/**
 * `/rpc/me`, with its handlers given to it alone: they share RPC names with the app
 * group's, and effect/rpc finds handlers by name in context.
 */
const UserApiLayer = UserApi.layer.pipe(
  Layer.provide(Layer.mergeAll(
    builtWithOnly(UserHandlersLayer, Context.pick(UserOperations)),
    UserAuthenticationLayer,
    RpcSerialization.layerJson
  ))
)

/** Push and email as the environment configures them (each off when unset). */
export const ChannelsFromEnv = ChannelsLive.pipe(Layer.provide(Layer.mergeAll(PushSender.layer, EmailSender.layer)))

/**
 * A running Herald server, configured by `config`. `telemetry` installs the tracer and
 * metric export (by default from the `OTEL_*` variables; tests pass an in-memory exporter).
 */
export const ServerLayer = (
  config: Layer.Layer<HeraldConfig, Config.ConfigError>,
  channels: Layer.Layer<Channels, ConfigurationError | Config.ConfigError, Unsubscribe> = ChannelsFromEnv,
  telemetry: Layer.Layer<never, Config.ConfigError> = TelemetryFromEnv
): Layer.Layer<HttpServer | Secrets | NotificationRepo | DigestScheduler, ConfigurationError | Config.ConfigError> =>
  Layer.mergeAll(Banner, Presence.announce).pipe(
    Layer.provideMerge(HttpServer.layer),
    Layer.provide(Layer.mergeAll(
      SocketGateway.layer,
      // effect/rpc merges the context a handlers layer was built in into every call's (LeanContext).
      builtWithOnly(AppHandlersLayer, Context.pick(ClientTokens, UserOperations, Publisher)),
      UserApiLayer,
      AdminHandlersLayer.pipe(Layer.provide(Replayer.layer)),
      UserMailboxLayer,
      RpcSerialization.layerJson
    )),
    Layer.provide(UserOperations.layer),
    Layer.provide(Publisher.layer),
    Layer.provideMerge(Layer.mergeAll(DeliveryWorker.layer, DigestScheduler.layer)),
    Layer.provideMerge(RolloutGuard.layer),
    Layer.provideMerge(RolloutFlag.layer),
    Layer.provideMerge(Presence.layer),
    Layer.provideMerge(channels),
    Layer.provideMerge(Core),
    Layer.provide(NodeServices.layer),
    Layer.provide(config),
    Layer.provide(telemetry)
  )
