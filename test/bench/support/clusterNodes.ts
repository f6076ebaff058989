/**
 * Several Herald server processes forming one effect/cluster: one database,
 * one Redis, distinct HTTP and runner ports. The first node starts alone so
 * that it applies the migrations before the others race to; the rest start
 * together.
 */
import { Effect } from "effect"
import { rmSync } from "node:fs"
import { freePort } from "../../support/TestServer.ts"
import { type ServerExit, type ServerProcess, startServer } from "./serverProcess.ts"
import { round } from "./stats.ts"
import { countLogProblems } from "./system.ts"

export interface ClusterNode {
  readonly index: number
  readonly clusterPort: number
  readonly server: ServerProcess
}

export interface ClusterOptions {
  readonly root: string
  readonly nodes: number
  readonly databaseUrl: string
  readonly redisUrl: string
  readonly apiKey: string
  readonly adminKey: string
  readonly tokenSecret: string
  /** `HERALD_CLUSTER_FAILOVER`, e.g. `5 seconds`. */
  readonly failover: string
  /** Called with each node as soon as it is up, so a caller can stop it even if a later one fails. */
  readonly onStarted: (node: ClusterNode) => void
}

const startNode = async (options: ClusterOptions, index: number): Promise<ClusterNode> => {
  const [port, clusterPort] = await Effect.runPromise(Effect.all([freePort, freePort]))
  const server = await startServer({
    root: options.root,
    databaseUrl: options.databaseUrl,
    apiKey: options.apiKey,
    adminKey: options.adminKey,
    tokenSecret: options.tokenSecret,
    port,
    label: `node${index}`,
    readyTimeoutMs: 60_000,
    env: {
      REDIS_URL: options.redisUrl,
      HERALD_CLUSTER_PORT: String(clusterPort),
      HERALD_CLUSTER_FAILOVER: options.failover
    }
  })
  const node = { index, clusterPort, server }
  options.onStarted(node)
  return node
}

export const startCluster = async (options: ClusterOptions): Promise<ReadonlyArray<ClusterNode>> => {
  const first = await startNode(options, 0)
  const rest = await Promise.allSettled(Array.from({ length: options.nodes - 1 }, (_, i) => startNode(options, i + 1)))
  const failed = rest.find((result) => result.status === "rejected")
  if (failed !== undefined) throw failed.reason
  return [first, ...rest.flatMap((result) => result.status === "fulfilled" ? [result.value] : [])]
}

/** SIGINT to every node at once (each gets SIGKILL after `timeoutMs`). */
export const stopCluster = (nodes: ReadonlyArray<ClusterNode>, timeoutMs = 15_000): Promise<Array<ServerExit>> =>
  Promise.all(nodes.map((node) => node.server.stop(timeoutMs)))

export interface NodeFacts {
  readonly exit: ServerExit | null
  readonly killed: boolean
  /** At the end of the run, or just before the kill. */
  readonly memory: { readonly rssMb: number; readonly peakRssMb: number } | null
  /** CPU seconds when publishing started and at the end (or the kill). */
  readonly cpuBefore: number | null
  readonly cpuAfter: number | null
}

/**
 * One node's line in the report, once it has stopped. Its logs are deleted
 * when clean and kept (and named) when anything was logged at WARN or above.
 */
export const nodeReport = (node: ClusterNode, facts: NodeFacts) => {
  const logs = countLogProblems([node.server.stdoutFile, node.server.stderrFile])
  const clean = logs.errors === 0 && logs.warnings === 0 && logs.otherLines === 0
  if (clean) rmSync(node.server.logDir, { recursive: true, force: true })
  return {
    index: node.index,
    pid: node.server.pid,
    port: node.server.port,
    clusterPort: node.clusterPort,
    killed: facts.killed,
    rssMb: facts.memory?.rssMb ?? null,
    peakRssMb: facts.memory?.peakRssMb ?? null,
    cpuSecondsPublish: facts.cpuBefore === null || facts.cpuAfter === null ? null : round(facts.cpuAfter - facts.cpuBefore),
    exit: facts.exit,
    logErrors: logs.errors,
    logWarnings: logs.warnings,
    logOtherLines: logs.otherLines,
    logDir: clean ? null : node.server.logDir
  }
}
