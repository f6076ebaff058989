/**
 * Cluster benchmark (issue 5, point 5): three Herald nodes as child
 * processes on one fresh database and one Redis, N sockets in this process
 * spread evenly over them (one user each), and a steady open-loop publish
 * rate, round-robin over the nodes through `HeraldClient`. Failed publishes
 * are retried on the next node with the same idempotency key.
 *
 * Two phases, each on a fresh cluster, database and Redis:
 * - steady: nothing goes wrong; latencies, throughput, memory.
 * - kill: halfway through, `kill -9` one node. Its sockets reconnect to the
 *   others with `resume` and must get what they missed; the report times
 *   the latency spike, the shards moving, and the sockets coming back.
 *
 *   node test/bench/cluster.ts [--sockets 10000] [--rate 300] [--duration 30]
 *                              [--phase both|steady|kill] [--quick] [--json-only] …
 *
 * Every socket is a file descriptor of this process: 10,000 sockets need
 * `ulimit -n` above ~11,000 (the run refuses to start otherwise).
 *
 * Output: one JSON document on stdout ({ config, steady, kill, verdict,
 * machine }; every derived figure's definition is in it), a table on stderr
 * unless --json-only. Node logs are kept (and named) only when a node logged
 * a warning or worse.
 *
 * Latencies are printed, never judged. The exit code is a correctness check:
 * 1 when a successful publish was lost, emitted twice to a socket's app, or
 * reached another user's socket; 2 when a run could not be set up.
 */
import { HeraldClient } from "@herald/client"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { cpus, loadavg, totalmem } from "node:os"
import { resolve } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { testDatabase } from "../support/TestDatabase.ts"
import { type ClusterNode, nodeReport, startCluster, stopCluster } from "./support/clusterNodes.ts"
import { args, config, publishes } from "./support/clusterOptions.ts"
import { clusterTable, type PhaseLines } from "./support/clusterTable.ts"
import { latencySpike, latencyWindows, mailboxFailover, reconnection, recovery, type Takeover } from "./support/killAnalysis.ts"
import { outageSummary } from "./support/outages.ts"
import { runOpenLoop } from "./support/publisher.ts"
import { describeLost } from "./support/lostDiagnosis.ts"
import { deliverySummary, publishSummary } from "./support/phaseSummary.ts"
import { makeReceipts } from "./support/receipts.ts"
import { type RedisProcess, startRedis } from "./support/redisProcess.ts"
import { retryingPublish } from "./support/retryingPublish.ts"
import { type ServerExit, tail } from "./support/serverProcess.ts"
import { shardLocks, shardOfUser, waitForBalance, watchTakeover } from "./support/shardLocks.ts"
import { openPool, type SocketPool } from "./support/socketPool.ts"
import { round, summarize } from "./support/stats.ts"
import { fileLimit, readCpuSeconds } from "./support/system.ts"
import { adminKey, apiKey, runId, signToken, tokenSecret } from "./support/benchKeys.ts"

const jsonOnly = args["json-only"]
const say = (line: string) => {
  if (!jsonOnly) process.stderr.write(`${line}\n`)
}
const root = resolve(import.meta.dirname, "../..")
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))
const message = (error: unknown) => error instanceof Error ? error.message : String(error)

const users = Array.from({ length: config.sockets }, (_, i) => `bench-u${i}`)
const userOf = (i: number) => users[i % users.length] ?? ""
// Socket s is on node s % nodes, publish i goes first to node i % nodes.
const nodeOfSocket = (s: number) => s % config.nodes

/** A failure before the measured part: the run could not be set up (exit 2). */
class SetupFailed extends Error {
  readonly details: Record<string, unknown>
  constructor(problem: string, details: Record<string, unknown> = {}) {
    super(problem)
    this.details = details
  }
}

const setup = async <A>(what: string, f: () => Promise<A>): Promise<A> => {
  try {
    return await f()
  } catch (error: unknown) {
    throw error instanceof SetupFailed ? error : new SetupFailed(`${what}: ${message(error)}`)
  }
}

// Ctrl-C stops the nodes and drops the database rather than leaving them behind.
const interrupted: { teardown: (() => Promise<unknown>) | undefined } = { teardown: undefined }
process.once("SIGINT", () => {
  process.stderr.write("interrupted: stopping the nodes and dropping the database\n")
  void (interrupted.teardown?.() ?? Promise.resolve()).finally(() => process.exit(130))
})

interface KillRecord {
  readonly at: number
  readonly node: ClusterNode
  readonly memory: { readonly rssMb: number; readonly peakRssMb: number } | null
  readonly cpuSeconds: number | null
  /** Resolves once the survivors hold the killed node's shards (or after two minutes). */
  readonly takeover: Promise<Takeover>
}

const runPhase = async (phase: "steady" | "kill") => {
  // Anything else running on the machine shows up in the latencies; this says how busy it was.
  const loadAverageAtStart = loadavg().map((n) => round(n))
  const scope = Effect.runSync(Scope.make())
  const nodes: Array<ClusterNode> = []
  let redis: RedisProcess | undefined
  let pool: SocketPool | undefined
  let killTimer: ReturnType<typeof setTimeout> | undefined
  let torn: Promise<ReadonlyMap<ClusterNode, ServerExit>> | undefined
  // Idempotent: runs at the end of a good run (for the exits) and again, harmlessly, in `finally`.
  const teardown = () =>
    torn ??= (async () => {
      if (killTimer !== undefined) clearTimeout(killTimer)
      await pool?.closeAll()
      const exits = await stopCluster(nodes)
      await redis?.stop()
      await Effect.runPromise(Scope.close(scope, Exit.void)).catch((error: unknown) =>
        process.stderr.write(`dropping the database failed: ${message(error)}\n`))
      return new Map(nodes.map((node, i) => [node, exits[i]] as const).flatMap(([node, exit]) => exit === undefined ? [] : [[node, exit] as const]))
    })()
  interrupted.teardown = teardown

  try {
    const database = await setup("creating the database", () => Effect.runPromise(testDatabase.pipe(Scope.provide(scope))))
    redis = args["redis-url"] === undefined ? await setup("starting redis-server", startRedis) : undefined
    const redisUrl = args["redis-url"] ?? redis?.url ?? ""
    say(`[${phase}] database ${database.name}, redis ${redisUrl}; starting ${config.nodes} nodes`)
    const cluster = await setup("starting the nodes", () =>
      startCluster({
        root,
        nodes: config.nodes,
        databaseUrl: database.url,
        redisUrl,
        apiKey,
        adminKey,
        tokenSecret,
        failover: config.failover,
        onStarted: (node) => nodes.push(node)
      }))
    const locks = await Effect.runPromise(shardLocks(database.url).pipe(Scope.provide(scope)))
    const shardOf = await Effect.runPromise(shardOfUser.pipe(Scope.provide(scope)))
    const shardsAtStart = await setup("spreading the shards", () => waitForBalance(locks, config.nodes, 60_000))
    say(`[${phase}] nodes ${cluster.map((n) => `${n.index}: pid ${n.server.pid} ${n.server.url}`).join(", ")}; shards ${shardsAtStart.join("/")}`)
    const clients = await Promise.all(cluster.map((node) =>
      Effect.runPromise(
        Layer.build(HeraldClient.layer({ url: node.server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)), Scope.provide(scope))
      )
    ))
    const wsUrls = cluster.map((node) => node.server.wsUrl)

    const prefix = `${runId}-${phase}-`
    const receipts = makeReceipts({ count: publishes, prefix, ignorePrefix: `${prefix}w`, userOf })
    const tokens = await Promise.all(users.map(signToken))
    say(`[${phase}] connecting ${config.sockets} sockets (${config.connectConcurrency} at a time)`)
    const opened = await openPool({
      wsUrl: wsUrls,
      users,
      tokens,
      concurrency: config.connectConcurrency,
      timeoutMs: 60_000,
      onNotification: receipts.onNotification,
      reconnect: { urls: wsUrls, initialMs: config.reconnectBackoffMs.initial, maxMs: config.reconnectBackoffMs.max, timeoutMs: 15_000 }
    })
    pool = opened
    if (opened.failures.length > 0) {
      const byCode: Record<string, number> = {}
      for (const failure of opened.failures) byCode[failure.code ?? "unknown"] = (byCode[failure.code ?? "unknown"] ?? 0) + 1
      throw new SetupFailed(`${opened.failures.length} of ${config.sockets} sockets did not reach synced`, {
        failuresByCode: byCode,
        firstFailures: opened.failures.slice(0, 5),
        ...(byCode["EMFILE"] === undefined ? {} : { hint: `EMFILE: ulimit -n is ${fileLimit()}; raise it or lower --sockets` })
      })
    }
    say(`[${phase}] ${config.sockets} sockets synced in ${opened.totalMs.toFixed(0)} ms; warming up with ${config.warmup} publishes`)

    const item = (key: string, i: number) => ({ userId: userOf(i), kind: "mention" as const, title: `cluster bench ${runId} ${key}`, idempotencyKey: key })
    const retryOptions = {
      clients,
      firstNode: (i: number) => i % config.nodes,
      backoffMs: config.retryBackoffMs,
      attemptTimeoutMs: config.attemptTimeoutMs,
      deadlineMs: config.publishDeadlineMs
    }
    const warm = retryingPublish({ ...retryOptions, count: config.warmup, item: (j) => item(`${prefix}w${j}`, j) })
    await runOpenLoop({ count: config.warmup, ratePerSecond: config.ratePerSecond, maxInFlight: 50, call: warm.call })

    say(`[${phase}] publishing ${publishes} notifications at ${config.ratePerSecond}/s for ${config.durationS} s` +
      (phase === "kill" ? `; kill -9 of node ${config.killNode} after ${config.durationS / 2} s` : ""))
    const publisher = retryingPublish({ ...retryOptions, count: publishes, item: (i) => item(`${prefix}${i}`, i) })
    const cpuBefore = cluster.map((node) => readCpuSeconds(node.server.pid))
    const loopDelay = monitorEventLoopDelay({ resolution: 5 })
    loopDelay.enable()
    const generatorCpu = process.cpuUsage()
    let killed: KillRecord | undefined
    const victim = cluster[config.killNode]
    if (phase === "kill" && victim !== undefined) {
      killTimer = setTimeout(async () => {
        // Who owns which shard a moment before, to tell afterwards which ones were the victim's.
        const owners = await locks.owners().catch(() => new Map<number, number>())
        const memory = victim.server.memory()
        const cpuSeconds = readCpuSeconds(victim.server.pid)
        const at = performance.now()
        void victim.server.kill("SIGKILL")
        killed = { at, node: victim, memory, cpuSeconds, takeover: watchTakeover(locks, owners, at, 120_000) }
      }, config.durationS * 500)
    }
    const loop = await runOpenLoop({ count: publishes, ratePerSecond: config.ratePerSecond, maxInFlight: config.maxInFlight, call: publisher.call })

    // Drain: until every successful publish has arrived, or nothing has for drainTimeoutMs.
    const succeeded = loop.ok.reduce((sum, ok) => sum + ok, 0)
    const deliveredCount = () => {
      let n = 0
      for (let i = 0; i < publishes; i++) if (loop.ok[i] === 1 && receipts.received(i)) n++
      return n
    }
    const drainStart = performance.now()
    while (deliveredCount() < succeeded && performance.now() - Math.max(receipts.lastProgressAt(), drainStart) < config.drainTimeoutMs) {
      await sleep(50)
    }
    const drainMs = performance.now() - drainStart
    // Late duplicates or misdeliveries would come in now.
    await sleep(1000)
    loopDelay.disable()
    const generatorCpuUsed = process.cpuUsage(generatorCpu)
    const takeover = killed === undefined ? undefined : await killed.takeover
    const endMemory = cluster.map((node) => node.server.memory())
    const cpuAfter = cluster.map((node) => readCpuSeconds(node.server.pid))
    const counters = opened.counters()
    const outages = opened.outages()

    const onKilledNode = killed === undefined ? undefined : (i: number) => nodeOfSocket(i % config.sockets) === killed?.node.index
    const delivery = deliverySummary(loop, receipts, onKilledNode)
    const liveClient = clients.find((_, n) => n !== killed?.node.index)
    const lostContext = {
      origin: killed?.at ?? loop.startedAt[0] ?? 0,
      sockets: config.sockets,
      publishes,
      startedAt: loop.startedAt,
      ok: loop.ok,
      ledger: publisher.ledger,
      receipts,
      pool: opened,
      prefix
    }
    const lostSamples = liveClient === undefined ? [] : await Promise.all(
      delivery.lostIndices.map((i) => describeLost({ ...lostContext, client: liveClient }, i, userOf(i)))
    )
    const records = {
      startedAt: loop.startedAt,
      ok: loop.ok,
      attempts: publisher.ledger.attempts,
      answeredAt: publisher.ledger.answeredAt,
      receivedAt: receipts.receivedAt,
      failures: publisher.ledger.failures
    }
    const socketsOn = (index: number) => users.filter((_, s) => nodeOfSocket(s) === index).length

    const exits = await teardown()
    const report = {
      phase,
      loadAverageAtStart,
      nodes: cluster.map((node, i) => {
        const isKilled = killed?.node === node
        return nodeReport(node, {
          exit: exits.get(node) ?? null,
          killed: isKilled,
          memory: isKilled ? killed?.memory ?? null : endMemory[i] ?? null,
          cpuBefore: cpuBefore[i] ?? null,
          cpuAfter: isKilled ? killed?.cpuSeconds ?? null : cpuAfter[i] ?? null
        })
      }),
      shardsAtStart,
      sockets: {
        count: config.sockets,
        perNode: cluster.map((node) => socketsOn(node.index)),
        connectTotalMs: round(opened.totalMs),
        connectPerSecond: round(config.sockets / (opened.totalMs / 1000), 1),
        connectMs: summarize(opened.connectMs),
        stillOpenAtEnd: counters.open,
        closedUnexpectedly: counters.closedUnexpectedly,
        closeCodes: counters.closeCodes,
        reconnectAttempts: counters.reconnectAttempts,
        reconnectFailureCodes: counters.reconnectFailureCodes,
        errorFrames: counters.errorFrames,
        errorCodes: counters.errorCodes,
        pingsAnswered: counters.pingsAnswered,
        malformedFrames: counters.malformedFrames,
        unexpectedCloses: outageSummary(
          outages.filter((o) => killed === undefined || o.lostUrl !== killed.node.server.wsUrl || o.closedAt < killed.at),
          wsUrls,
          loop.startedAt[0] ?? 0
        )
      },
      publish: publishSummary(loop, publisher.ledger),
      delivery: {
        ...delivery.section,
        // The kill phase has these around the kill, in recovery.windows.
        ...(killed === undefined ? { latencyBySecond: latencyWindows(records, loop.startedAt[0] ?? 0, loop.startedAt[0] ?? 0, 1_000) } : {}),
        drainMs: round(drainMs),
        lostSamplesTimesFrom: killed === undefined ? "first publish" : "kill",
        lostSamples
      },
      generator: {
        // This process shares the machine's cores with the nodes, PostgreSQL and Redis: its delays are in the latencies too.
        cpuSecondsPublish: round((generatorCpuUsed.user + generatorCpuUsed.system) / 1e6),
        eventLoopDelayMs: { p50: round(loopDelay.percentile(50) / 1e6), p99: round(loopDelay.percentile(99) / 1e6), max: round(loopDelay.max / 1e6) }
      },
      ...(killed === undefined || takeover === undefined ? {} : {
        kill: {
          node: killed.node.index,
          pid: killed.node.server.pid,
          afterS: round((killed.at - (loop.startedAt[0] ?? killed.at)) / 1000, 2),
          socketsOnNode: socketsOn(killed.node.index)
        },
        latencySpike: latencySpike(records, killed.at, 5_000),
        recovery: recovery(records, killed.at, 1_000, 2),
        mailboxes: mailboxFailover(records, killed.at, 5_000, takeover, (i) => takeover.orphaned.has(shardOf(userOf(i)))),
        reconnect: reconnection(outages, killed.node.server.wsUrl, killed.at, socketsOn(killed.node.index), wsUrls)
      })
    }
    return report
  } catch (error: unknown) {
    for (const node of nodes) {
      process.stderr.write(`node${node.index} (${node.server.logDir}) stderr tail:\n${tail(node.server.stderrFile, 15)}\n`)
    }
    throw error
  } finally {
    await teardown()
  }
}

type PhaseReport = Awaited<ReturnType<typeof runPhase>>

const tableLines = (r: PhaseReport): PhaseLines => ({
  ...r,
  ...(r.recovery === undefined || r.latencySpike === undefined || r.reconnect === undefined || r.mailboxes === undefined ? {} : {
    killed: { latencySpike: r.latencySpike, recovery: r.recovery, mailboxes: r.mailboxes, reconnect: r.reconnect }
  })
})

const machine = () => ({
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? null,
  memoryGb: round(totalmem() / 2 ** 30, 1),
  loadAverage: loadavg().map((n) => round(n)),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  openFileLimit: fileLimit()
})

const main = async (): Promise<number> => {
  const limit = Number(fileLimit())
  // One descriptor per socket, plus HTTP connections to the nodes and some slack.
  if (Number.isFinite(limit) && limit < config.sockets + 1000) {
    process.stdout.write(`${JSON.stringify({ benchmark: "cluster", config, error: `ulimit -n is ${limit}; ${config.sockets} sockets need at least ${config.sockets + 1000}: raise it (ulimit -n 65536) or lower --sockets`, machine: machine() }, null, 2)}\n`)
    return 2
  }
  const results: { steady: PhaseReport | null; kill: PhaseReport | null } = { steady: null, kill: null }
  for (const phase of config.phases) {
    try {
      results[phase] = await runPhase(phase)
    } catch (error: unknown) {
      process.stdout.write(`${JSON.stringify({
        benchmark: "cluster",
        config,
        ...results,
        error: { phase, message: message(error), ...(error instanceof SetupFailed ? error.details : { stack: error instanceof Error ? error.stack : undefined }) },
        machine: machine()
      }, null, 2)}\n`)
      process.stderr.write(`cluster benchmark failed in the ${phase} phase: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
      return 2
    }
  }
  const ran = [results.steady, results.kill].flatMap((r) => r === null ? [] : [r])
  const verdict = {
    lost: ran.reduce((sum, r) => sum + r.delivery.lost, 0),
    duplicates: ran.reduce((sum, r) => sum + r.delivery.duplicates, 0),
    misdelivered: ran.reduce((sum, r) => sum + r.delivery.misdelivered, 0)
  }
  const exitCode = verdict.lost > 0 || verdict.duplicates > 0 || verdict.misdelivered > 0 ? 1 : 0
  process.stdout.write(`${JSON.stringify({ benchmark: "cluster", config, ...results, verdict: { ...verdict, exitCode }, machine: machine() }, null, 2)}\n`)
  if (!jsonOnly) process.stderr.write(clusterTable(ran.map(tableLines)))
  return exitCode
}

process.exitCode = await main()
