/**
 * The effect/cluster runtime the mailboxes run on.
 *
 * - Embedded default, or an external database without Redis: one runner in
 *   this process (`SingleRunner`), shards held in memory.
 * - `DATABASE_URL` and `REDIS_URL` both set: this process is one runner of a
 *   cluster. Runners find each other and lock their shards in PostgreSQL
 *   (SQL runner storage, advisory locks) and talk over TCP
 *   (`NodeClusterSocket`'s socket server and client). A runner that stops
 *   answering is marked unhealthy and its shards move to the others within
 *   `HERALD_CLUSTER_FAILOVER`.
 *
 * The sharding settings are built here from Herald's own configuration
 * rather than from effect's environment reader, whose generic names (`HOST`,
 * `PORT`) would pick up unrelated variables.
 */
import { layerClientProtocol, layerSocketServer } from "@effect/platform-node/NodeClusterSocket"
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { ConfigurationError } from "@herald/domain"
import { Duration, Effect, Layer, Option } from "effect"
import {
  MessageStorage,
  RunnerAddress,
  RunnerHealth,
  Runners,
  RunnerStorage,
  Sharding,
  ShardingConfig,
  SocketRunner,
  SqlMessageStorage,
  SqlRunnerStorage
} from "effect/cluster"
import { RpcSerialization } from "effect/rpc"
import type { SqlClient } from "effect/sql"
import { type ClusterSettings, HeraldConfig } from "../config/HeraldConfig.ts"

/** True when this process should join a cluster rather than run alone. */
export const isClustered = (config: HeraldConfig["Service"]): boolean =>
  Option.isSome(config.databaseUrl) && Option.isSome(config.redisUrl)

const common: Partial<ShardingConfig.ShardingConfig["Service"]> = {
  // Local messages skip the serialization round trip effect would otherwise simulate;
  // payloads are schema-decoded at the gateway already.
  simulateRemoteSerialization: false,
  // A mailbox is small (cached preferences, one cursor) and lingers for minutes after its
  // user's last publish; effect's default of 10,000 resident entities would refuse
  // publishes for new users on a busy node rather than save memory that matters.
  maxResidentEntities: 200_000
}

type ShardingLayer = Layer.Layer<Sharding.Sharding | MessageStorage.MessageStorage, ConfigurationError, SqlClient.SqlClient>

const single: ShardingLayer = Sharding.layer.pipe(
  Layer.provideMerge(Runners.layerNoop),
  Layer.provideMerge(SqlMessageStorage.layer),
  Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
  Layer.provide(ShardingConfig.layer(common)),
  Layer.provide(NodeCrypto.layerDigest)
)

const RefreshMillis = 1_000

const shardingSettings = (cluster: ClusterSettings): Partial<ShardingConfig.ShardingConfig["Service"]> => {
  const failover = Duration.toMillis(cluster.failover)
  const lockExpiration = failover - RefreshMillis - 500
  return {
    ...common,
    runnerAddress: Option.some(RunnerAddress.make(cluster.host, cluster.port)),
    // Listen on every interface of the advertised port, so HERALD_CLUSTER_HOST may be a name.
    runnerListenAddress: Option.some(RunnerAddress.make("0.0.0.0", cluster.port)),
    // A dead runner is noticed by failed pings (the health check, a singleton that may itself
    // have been on the dead runner) or by its heartbeat going stale (lock expiration); the
    // others then take its shards at their next assignment refresh, one second later at most.
    shardLockExpiration: Duration.millis(lockExpiration),
    // The longest refresh interval effect allows: a refresh slower than it (a saturated CPU or
    // database) makes the runner give up all its shards, so shorter would only be more fragile.
    shardLockRefreshInterval: Duration.millis(Math.floor(lockExpiration / 3)),
    runnerHealthCheckInterval: Duration.millis(Math.floor(failover / 5)),
    refreshAssignmentsInterval: Duration.millis(RefreshMillis),
    entityTerminationTimeout: Duration.seconds(5)
  }
}

// A layer of the sharding's type that fails to build; `Layer.catchTag` keeps the output type this way.
const failed = (error: Effect.Effect<never, ConfigurationError>): ShardingLayer => Layer.unwrap(error)

const clustered = (cluster: ClusterSettings): ShardingLayer =>
  SocketRunner.layer.pipe(
    Layer.provide([layerSocketServer, layerClientProtocol]),
    Layer.provide(RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(layerClientProtocol))),
    Layer.provideMerge(SqlMessageStorage.layer.pipe(Layer.provide(NodeCrypto.layerDigest))),
    Layer.provide(Layer.orDie(SqlRunnerStorage.layer)),
    Layer.provide(ShardingConfig.layer(shardingSettings(cluster))),
    Layer.provide(RpcSerialization.layerSchemaBinary()),
    Layer.catchTag("SocketServerError", (error) =>
      failed(Effect.fail(
        new ConfigurationError({
          message: `cannot listen for cluster peers on port ${cluster.port} (HERALD_CLUSTER_PORT): ${error.message}`
        })
      )))
  )

/** Sharding for this process: a cluster runner or a single runner, as `HeraldConfig` says. */
export const ClusterLayer: Layer.Layer<
  Sharding.Sharding | MessageStorage.MessageStorage,
  ConfigurationError,
  HeraldConfig | SqlClient.SqlClient
> = Layer.unwrap(
  Effect.map(HeraldConfig, (config) => isClustered(config) ? clustered(config.cluster) : single)
)
