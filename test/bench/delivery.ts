/**
 * Delivery benchmark: a real Herald server in a child process on a fresh
 * database, N sockets (one user each) in this process, and M `Notify` calls
 * at a fixed rate, round-robin over the users. Reports connection set-up,
 * publish call latency and publish-to-socket latency as JSON on stdout, plus
 * a table on stderr.
 *
 *   node test/bench/delivery.ts [--sockets 1000] [--notifications 5000] [--rate 500]
 *                               [--max-in-flight 256] [--connect-concurrency 100]
 *                               [--quick] [--json-only]
 *
 * Latencies are printed, never judged. The exit code is a correctness check:
 * 1 when a successfully published notification was lost, arrived twice or
 * arrived at another user's socket; 2 when the run could not be set up.
 */
import { HeraldClient, type HeraldClientError } from "@herald/client"
import { Cause, Context, Effect, Exit, Layer, Scope } from "effect"
import { rmSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { resolve } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { testDatabase } from "../support/TestDatabase.ts"
import { openPool, type ReceivedNotification, type SocketPool } from "./support/socketPool.ts"
import { type OtlpReceiver, startOtlpReceiver } from "./support/otlpReceiver.ts"
import { runOpenLoop } from "./support/publisher.ts"
import { type ServerProcess, startServer, tail } from "./support/serverProcess.ts"
import { round, summarize } from "./support/stats.ts"
import { countLogProblems, fileLimit, readCpuSeconds } from "./support/system.ts"
import { table } from "./support/table.ts"
import { adminKey, apiKey, runId, signToken, tokenSecret } from "./support/benchKeys.ts"

const usage = `usage: node test/bench/delivery.ts [options]   (or: pnpm bench:delivery -- [options])
  --sockets N              sockets, one user each (default 1000; --quick 200)
  --notifications N        notifications to publish (default 5000; --quick 1000)
  --rate N                 publishes per second, open loop (default 500)
  --max-in-flight N        concurrent Notify calls at most (default 256)
  --connect-concurrency N  sockets opening at once (default 100)
  --drain-timeout MS       wait this long without progress for the last frames (default 10000)
  --tracing off|memory|otlp  tracing in the server: off (default; no OTEL_* set), spans to the
                           in-memory exporter, or OTLP/HTTP to a local receiver (traces + metrics)
  --quick                  the small configuration
  --json-only              no table on stderr
Prints one JSON document on stdout; exits 1 when a notification is lost, duplicated or misdelivered.
`

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        help: { type: "boolean", short: "h", default: false },
        sockets: { type: "string" },
        notifications: { type: "string" },
        rate: { type: "string" },
        "max-in-flight": { type: "string" },
        "connect-concurrency": { type: "string" },
        "drain-timeout": { type: "string" },
        quick: { type: "boolean", default: false },
        tracing: { type: "string", default: "off" },
        "json-only": { type: "boolean", default: false }
      },
      strict: true
    })
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
    process.exit(2)
  }
})()
if (parsed.values.help) {
  process.stdout.write(usage)
  process.exit(0)
}
const args = parsed.values

const positiveInt = (name: string, raw: string | undefined, fallback: number): number => {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) {
    process.stderr.write(`--${name} must be a positive integer, got ${raw}\n`)
    process.exit(2)
  }
  return value
}

const config = {
  sockets: positiveInt("sockets", args.sockets, args.quick ? 200 : 1000),
  notifications: positiveInt("notifications", args.notifications, args.quick ? 1000 : 5000),
  ratePerSecond: positiveInt("rate", args.rate, 500),
  maxInFlight: positiveInt("max-in-flight", args["max-in-flight"], 256),
  connectConcurrency: positiveInt("connect-concurrency", args["connect-concurrency"], 100),
  drainTimeoutMs: positiveInt("drain-timeout", args["drain-timeout"], 10_000),
  quick: args.quick,
  tracing: args.tracing === "memory" || args.tracing === "otlp" ? args.tracing : "off"
}
if (args.tracing !== undefined && args.tracing !== config.tracing) {
  process.stderr.write(`--tracing must be off, memory or otlp, got ${args.tracing}\n`)
  process.exit(2)
}
const jsonOnly = args["json-only"]
const say = (line: string) => {
  if (!jsonOnly) process.stderr.write(`${line}\n`)
}
const root = resolve(import.meta.dirname, "../..")
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

const users = Array.from({ length: config.sockets }, (_, i) => `bench-u${i}`)
const userOf = (i: number) => users[i % users.length] ?? ""
const keyPrefix = `bench-${runId}-`

// What arrived, by notification index (from the idempotency key).
const receivedAt = new Float64Array(config.notifications).fill(Number.NaN)
const timesById = new Map<string, number>()
let duplicated = 0
let misdelivered = 0
let unmatched = 0
let lastProgressAt = performance.now()

const onNotification = (socketUser: string, n: ReceivedNotification, at: number) => {
  lastProgressAt = at
  const index = n.idempotencyKey?.startsWith(keyPrefix) === true ? Number(n.idempotencyKey.slice(keyPrefix.length)) : -1
  if (!Number.isInteger(index) || index < 0 || index >= config.notifications) {
    unmatched++
    return
  }
  if (n.userId !== socketUser || userOf(index) !== socketUser) {
    misdelivered++
    return
  }
  const seen = timesById.get(n.id) ?? 0
  timesById.set(n.id, seen + 1)
  if (seen > 0 || !Number.isNaN(receivedAt[index] ?? Number.NaN)) {
    duplicated++
    return
  }
  receivedAt[index] = at
}

const main = async (): Promise<number> => {
  const scope = Effect.runSync(Scope.make())
  let server: ServerProcess | undefined
  let pool: SocketPool | undefined
  let receiver: OtlpReceiver | undefined
  try {
    const database = await Effect.runPromise(testDatabase.pipe(Scope.provide(scope)))
    say(`database ${database.name}`)
    receiver = config.tracing === "otlp" ? await startOtlpReceiver() : undefined
    // The standard sampler variables pass through, so a sampled run can be compared too.
    const samplerEnv: Record<string, string> = {}
    for (const name of ["OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG"]) {
      const value = process.env[name]
      if (value !== undefined) samplerEnv[name] = value
    }
    const tracingEnv: Record<string, string> = config.tracing === "memory"
      ? { OTEL_TRACES_EXPORTER: "memory" }
      : receiver !== undefined
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRIC_EXPORT_INTERVAL: "5000", ...samplerEnv }
      : {}
    server = await startServer({ root, databaseUrl: database.url, apiKey, adminKey, tokenSecret, env: tracingEnv })
    say(`server pid ${server.pid} on ${server.url} (logs in ${server.logDir})`)
    const idle = server.memory()

    const client = await Effect.runPromise(
      Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(
        Effect.map(Context.get(HeraldClient)),
        Scope.provide(scope)
      )
    )

    const tokens = await Promise.all(users.map(signToken))
    say(`connecting ${config.sockets} sockets (${config.connectConcurrency} at a time)`)
    const cpuBeforeConnect = readCpuSeconds(server.pid)
    pool = await openPool({
      wsUrl: server.wsUrl,
      users,
      tokens,
      concurrency: config.connectConcurrency,
      timeoutMs: 30_000,
      onNotification
    })
    const cpuAfterConnect = readCpuSeconds(server.pid)
    const afterConnect = server.memory()
    const connected = { totalMs: pool.totalMs, connectMs: pool.connectMs }
    if (pool.failures.length > 0) {
      const byCode: Record<string, number> = {}
      for (const failure of pool.failures) byCode[failure.code ?? "unknown"] = (byCode[failure.code ?? "unknown"] ?? 0) + 1
      const emfile = byCode["EMFILE"] !== undefined
      process.stdout.write(`${JSON.stringify({
        benchmark: "delivery",
        config,
        error: `${pool.failures.length} of ${config.sockets} sockets did not reach synced`,
        failuresByCode: byCode,
        firstFailures: pool.failures.slice(0, 5),
        serverLogDir: server.logDir,
        ...(emfile ? { hint: `EMFILE: too many open files (ulimit -n is ${fileLimit()}); raise it or lower --sockets` } : {})
      }, null, 2)}\n`)
      return 2
    }

    say(`publishing ${config.notifications} notifications at ${config.ratePerSecond}/s`)
    const failuresByTag: Record<string, number> = {}
    let deduplicatedAnswers = 0
    const loopDelay = monitorEventLoopDelay({ resolution: 5 })
    loopDelay.enable()
    const generatorCpu = process.cpuUsage()
    const publish = await runOpenLoop({
      count: config.notifications,
      ratePerSecond: config.ratePerSecond,
      maxInFlight: config.maxInFlight,
      call: async (i) => {
        const exit = await Effect.runPromiseExit(client.notify({
          userId: userOf(i),
          kind: "mention",
          title: `bench ${runId} #${i}`,
          idempotencyKey: `${keyPrefix}${i}`
        }))
        if (Exit.isSuccess(exit)) {
          if (exit.value.deduplicated) deduplicatedAnswers++
          return true
        }
        const error = Cause.findErrorOption(exit.cause)
        const tag = error._tag === "Some" ? (error.value satisfies HeraldClientError)._tag : "Defect"
        failuresByTag[tag] = (failuresByTag[tag] ?? 0) + 1
        return false
      }
    })

    // Wait for the stragglers: until everything published has arrived, or nothing has for drainTimeoutMs.
    const published = publish.ok.reduce((sum, ok) => sum + ok, 0)
    const receivedCount = () => {
      let count = 0
      for (let i = 0; i < config.notifications; i++) {
        if (publish.ok[i] === 1 && !Number.isNaN(receivedAt[i] ?? Number.NaN)) count++
      }
      return count
    }
    lastProgressAt = Math.max(lastProgressAt, performance.now())
    while (receivedCount() < published && performance.now() - lastProgressAt < config.drainTimeoutMs) await sleep(20)
    // A short pause for late duplicates or misdeliveries after the last expected frame.
    await sleep(500)
    loopDelay.disable()
    const generatorCpuUsed = process.cpuUsage(generatorCpu)
    const cpuAfterRun = readCpuSeconds(server.pid)
    const afterRun = server.memory()
    const sockets = pool.counters()

    const latencies: Array<number> = []
    const latenciesFromSlot: Array<number> = []
    let deliveredDespiteFailure = 0
    for (let i = 0; i < config.notifications; i++) {
      const at = receivedAt[i] ?? Number.NaN
      if (Number.isNaN(at)) continue
      if (publish.ok[i] === 1) {
        const started = publish.startedAt[i] ?? at
        latencies.push(at - started)
        latenciesFromSlot.push(at - (started - (publish.lagMs[i] ?? 0)))
      } else {
        deliveredDespiteFailure++
      }
    }
    const received = latencies.length
    const lost = published - received
    const callLatencies = Array.from(publish.callMs)

    await pool.closeAll()
    pool = undefined
    const stopped = await server.stop()
    const logProblems = countLogProblems([server.stdoutFile, server.stderrFile])
    // An orderly stop exits 0 (130 from older servers).
    const abnormal = stopped.killed || (stopped.code !== 0 && stopped.code !== 130 && stopped.signal !== "SIGINT")
    const clean = !abnormal && logProblems.errors === 0 && logProblems.warnings === 0 && logProblems.otherLines === 0

    const report = {
      benchmark: "delivery",
      config,
      otlpReceived: receiver === undefined ? null : receiver.counts(),
      sockets: {
        count: config.sockets,
        totalMs: round(connected.totalMs),
        ratePerSecond: round(config.sockets / (connected.totalMs / 1000), 1),
        connectMs: summarize(connected.connectMs),
        stillOpenAtEnd: sockets.open,
        closedUnexpectedly: sockets.closedUnexpectedly,
        closeCodes: sockets.closeCodes,
        errorFrames: sockets.errorFrames,
        errorCodes: sockets.errorCodes,
        pingsAnswered: sockets.pingsAnswered,
        malformedFrames: sockets.malformedFrames
      },
      publish: {
        count: config.notifications,
        succeeded: published,
        failures: publish.failures,
        failuresByTag,
        deduplicatedAnswers,
        ratePerSecondAchieved: round(publish.sendSpanMs > 0 ? (config.notifications - 1) / (publish.sendSpanMs / 1000) : 0, 1),
        callLatencyMs: summarize(callLatencies),
        scheduleLagMs: summarize(Array.from(publish.lagMs)),
        maxInFlightSeen: publish.maxInFlightSeen
      },
      delivery: {
        received,
        lost,
        duplicated,
        misdelivered,
        unmatched,
        deliveredDespiteFailure,
        latencyMs: summarize(latencies),
        // From the call's scheduled slot rather than its start: includes time spent waiting for a free
        // in-flight slot, so it is the honest figure when the server cannot keep up with --rate.
        latencyFromScheduledMs: summarize(latenciesFromSlot)
      },
      server: {
        pid: server.pid,
        rssMb: afterRun?.rssMb ?? null,
        rssMbIdle: idle?.rssMb ?? null,
        rssMbAfterConnect: afterConnect?.rssMb ?? null,
        peakRssMb: afterRun?.peakRssMb ?? null,
        cpuSecondsConnect: cpuAfterConnect === null || cpuBeforeConnect === null ? null : round(cpuAfterConnect - cpuBeforeConnect),
        cpuSecondsPublish: cpuAfterRun === null || cpuAfterConnect === null ? null : round(cpuAfterRun - cpuAfterConnect),
        exit: stopped,
        logErrors: logProblems.errors,
        logWarnings: logProblems.warnings,
        logOtherLines: logProblems.otherLines,
        // Kept only when something looks wrong; removed after a clean run.
        logDir: clean ? null : server.logDir
      },
      generator: {
        // This process shares the machine with the server: when it is busy, latencies include its queueing too.
        cpuSecondsPublish: round((generatorCpuUsed.user + generatorCpuUsed.system) / 1e6),
        eventLoopDelayMs: {
          p50: round(loopDelay.percentile(50) / 1e6),
          p99: round(loopDelay.percentile(99) / 1e6),
          max: round(loopDelay.max / 1e6)
        }
      },
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? null,
        memoryGb: round(totalmem() / 2 ** 30, 1),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        openFileLimit: fileLimit()
      }
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    if (!jsonOnly) process.stderr.write(table(report))
    if (clean) rmSync(server.logDir, { recursive: true, force: true })
    else process.stderr.write(`server stderr (tail):\n${tail(server.stderrFile)}\nserver stdout (tail):\n${tail(server.stdoutFile)}\n`)
    return lost > 0 || duplicated > 0 || misdelivered > 0 ? 1 : 0
  } catch (error: unknown) {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    if (server !== undefined) {
      process.stderr.write(`server stderr (tail):\n${tail(server.stderrFile)}\n`)
    }
    return 2
  } finally {
    await pool?.closeAll()
    await server?.stop()
    await receiver?.close()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

process.exitCode = await main()
