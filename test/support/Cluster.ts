/**
 * A Herald cluster as operators run it: N `bin.ts` processes on one
 * PostgreSQL database and one Redis, each with its own HTTP and runner port.
 * Nodes can be killed (`kill -9`), stopped (SIGTERM) and started again.
 */
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer, type Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type ServerProcess, spawnServer, stopServer } from "./ServerProcess.ts"
import { adminKey, apiKey, freePort, tokenSecret } from "./TestServer.ts"

export interface ClusterNode {
  readonly index: number
  readonly url: string
  readonly wsUrl: string
  /** The runner address other nodes reach it at, as effect/cluster stores it. */
  readonly runnerAddress: string
  /** The running process (replaced by `start`). */
  readonly process: () => ServerProcess
  /** `kill -9`: no finalizer runs. */
  readonly kill: Effect.Effect<void>
  /** SIGTERM, the way an orchestrator stops a node; resolves to the exit code. */
  readonly stop: Effect.Effect<number | null>
  /** Starts the node again on the same ports. */
  readonly start: Effect.Effect<void, Error, Scope.Scope>
}

export interface ClusterOptions {
  readonly nodes: number
  readonly databaseUrl: string
  readonly redisUrl: string
  /** `HERALD_CLUSTER_FAILOVER` (default 5 seconds, the shortest allowed, so failures resolve quickly in tests). */
  readonly failover?: string
  readonly env?: Readonly<Record<string, string>>
}

/** Starts the nodes one after another (the first one applies the migrations). */
export const startCluster = (options: ClusterOptions): Effect.Effect<ReadonlyArray<ClusterNode>, Error, Scope.Scope> =>
  Effect.forEach(Array.from({ length: options.nodes }, (_, index) => index), (index) =>
    Effect.gen(function*() {
      const port = yield* freePort
      const clusterPort = yield* freePort
      const env = {
        DATABASE_URL: options.databaseUrl,
        REDIS_URL: options.redisUrl,
        HERALD_HOST: "127.0.0.1",
        HERALD_PORT: String(port),
        HERALD_CLUSTER_PORT: String(clusterPort),
        HERALD_CLUSTER_FAILOVER: options.failover ?? "5 seconds",
        HERALD_DATA_DIR: mkdtempSync(join(tmpdir(), `herald-node${index}-`)),
        HERALD_API_KEY: apiKey,
        HERALD_ADMIN_KEY: adminKey,
        HERALD_TOKEN_SECRET: tokenSecret,
        ...options.env
      }
      let current = yield* spawnServer(env)
      return {
        index,
        url: `http://127.0.0.1:${port}`,
        wsUrl: `ws://127.0.0.1:${port}/ws`,
        runnerAddress: `127.0.0.1:${clusterPort}`,
        process: () => current,
        kill: Effect.suspend(() => Effect.asVoid(stopServer(current, "SIGKILL"))),
        stop: Effect.suspend(() => stopServer(current, "SIGTERM")),
        start: Effect.map(spawnServer(env), (started) => {
          current = started
        })
      } satisfies ClusterNode
    }))

/** A typed client per node, in node order. */
export const clientsFor = (nodes: ReadonlyArray<ClusterNode>) =>
  Effect.forEach(nodes, (node) =>
    Layer.build(HeraldClient.layer({ url: node.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient))))
