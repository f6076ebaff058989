/**
 * Persist benchmark: how many notifications a second one Herald server
 * stores in PostgreSQL and acknowledges, when apps publish in batches. One
 * server process on a fresh database of the machine's PostgreSQL (no Redis,
 * as compare.ts's `herald` system), and this process as the app: C `Notify`
 * calls of B items in flight, closed loop, for T seconds after W seconds of
 * unmeasured warm-up (`support/batchPublisher.ts`).
 *
 *   node test/bench/persist.ts [--users 10000] [--batch 100] [--concurrency 8] [--seconds 15]
 *                              [--warmup-seconds 3] [--keys on|off] [--quick] [--json-only]   (--help for all)
 *
 * Figures: persisted/s (items of successful calls ÷ the measured window),
 * calls/s, call latency, server CPU and PostgreSQL CPU per 1,000 persisted,
 * errors by tag; reported against a target of 10,000 persisted/s, never
 * judged on it. The exit code is the correctness check
 * (`support/persistCheck.ts`): 1 when the database does not hold exactly
 * the acknowledged items, or (keys on) a re-sent item was not deduplicated
 * or added a row; 2 when the run could not be set up.
 */
import { HeraldClient } from "@herald/client"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, runId, tokenSecret } from "./support/benchKeys.ts"
import { type BatchCall, batchPublisher, type Phase, type Settled } from "./support/batchPublisher.ts"
import { topSelfTime } from "./support/cpuProfile.ts"
import { checkDedup, checkRows, type DedupCheck } from "./support/persistCheck.ts"
import { config } from "./support/persistOptions.ts"
import { type ServerProcess, startServer, tail } from "./support/serverProcess.ts"
import { round, summarize } from "./support/stats.ts"
import { readStoreCpu, storeCpuDelta } from "./support/storeCpu.ts"
import { countLogProblems, readCpuSeconds } from "./support/system.ts"
import { machine, versions } from "./support/versions.ts"

const targetPerSecond = 10_000
const callTimeoutMs = 30_000
const root = resolve(import.meta.dirname, "../..")
const say = (line: string) => {
  if (!config.jsonOnly) process.stderr.write(`${line}\n`)
}

const definitions = {
  persistedPerSecond: "items of Notify calls that succeeded in the measured phase ÷ its window (first call's start to last answer)",
  callsPerSecond: "successful Notify calls ÷ the same window",
  callLatencyMs: "one Notify call of --batch items, from before the client encodes it to its decoded answer, successful calls",
  serverCpuMsPer1kPersisted: "the server process's utime + stime (/proc) over the window ÷ persisted × 1,000",
  postgresCpuMsPer1kPersisted: "CPU of the run database's PostgreSQL backends present at both ends of the window ÷ persisted × 1,000",
  publisherCpuMsPer1kPersisted: "this process's CPU (the app: building, encoding, decoding calls) over the window ÷ persisted × 1,000",
  rows: "SELECT count(*) FROM notifications at the end; expected = every acknowledged item, warm-up and settled ones included",
  settled: "with keys on, calls that failed are sent again (same items and keys) until answered, so each item ends acknowledged or unsettled"
}

// Of what versions.ts reads, what this benchmark runs (no Redis, no competitors).
const usedVersions = async () => {
  const all = await versions(root)
  return { node: all.node, effect: all.effect, postgres: all.postgres, heraldCommit: all.heraldCommit, heraldWorkTreeChanged: all.heraldWorkTreeChanged }
}

const sum = (values: Iterable<number>) => {
  let total = 0
  for (const value of values) total += value
  return total
}
const per1k = (seconds: number | null, persisted: number) =>
  seconds === null || persisted === 0 ? null : round(seconds * 1e6 / persisted, 1)

// Ctrl-C stops the server and drops the database rather than leaving them behind.
const running: { stop: (() => Promise<unknown>) | undefined } = { stop: undefined }
process.once("SIGINT", () => {
  process.stderr.write("interrupted: stopping the server and dropping its database\n")
  void (running.stop?.() ?? Promise.resolve()).finally(() => process.exit(130))
})

const phaseFigures = (phase: Phase) => ({
  seconds: round(phase.wallMs / 1000, 3),
  calls: phase.calls.length,
  acknowledged: phase.acknowledged,
  failedCalls: phase.calls.filter((call) => call.failed !== null).length,
  errorsByTag: phase.errorsByTag,
  firstErrors: phase.firstErrors,
  deduplicatedAnswers: phase.deduplicatedAnswers
})

const main = async (): Promise<number> => {
  const startedAt = new Date().toISOString()
  const machineAtStart = machine()
  const scope = Effect.runSync(Scope.make())
  const profileDir = config.profile ? mkdtempSync(join(tmpdir(), "herald-persist-profile-")) : null
  let server: ServerProcess | undefined
  running.stop = async () => {
    await server?.stop()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  try {
    const database = await Effect.runPromise(testDatabase.pipe(Scope.provide(scope)))
    server = await startServer({
      root,
      databaseUrl: database.url,
      apiKey,
      adminKey,
      tokenSecret,
      label: "persist",
      ...(profileDir === null ? {} : { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] })
    })
    say(`database ${database.name}; server pid ${server.pid} on ${server.url} (logs in ${server.logDir})`)
    const client = await Effect.runPromise(
      Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)), Scope.provide(scope))
    )
    const publisher = batchPublisher({
      client,
      users: config.users,
      batch: config.batch,
      concurrency: config.concurrency,
      keys: config.keys,
      runId,
      sampleSize: config.keys ? config.dedupSample : 0,
      callTimeoutMs
    })

    const shape = `${config.concurrency} calls of ${config.batch} items in flight over ${config.users} users, keys ${config.keys ? "on" : "off"}`
    // Warm-up also lets the server open its database connections: backends opened inside the window would go unread.
    say(`warming up ${config.warmupSeconds} s, then measuring ${config.seconds} s: ${shape}`)
    const warmup = await publisher.run(config.warmupSeconds)

    const serverPid = server.pid
    const storeBefore = await readStoreCpu(database.name, null)
    const cpuBefore = readCpuSeconds(serverPid)
    const ownBefore = process.cpuUsage()
    const loopDelay = monitorEventLoopDelay({ resolution: 5 })
    loopDelay.enable()
    const measured = await publisher.run(config.seconds)
    loopDelay.disable()
    const ownUsed = process.cpuUsage(ownBefore)
    const cpuAfter = readCpuSeconds(serverPid)
    const storeAfter = await readStoreCpu(database.name, null)
    const rssAtEnd = server.memory()

    const failed = [...warmup.calls, ...measured.calls].filter((call) => call.failed !== null)
    const settled: Settled | null = config.keys && failed.length > 0 ? await publisher.settle(failed, 5, 1_000) : null
    const unsettled = new Set<BatchCall>(settled?.unsettled ?? failed)
    const acknowledgedCalls = [...warmup.calls, ...measured.calls].filter((call) => call.failed === null || !unsettled.has(call))

    say("checking the database")
    const rowCheck = await checkRows(database.url, runId, publisher.issued(), acknowledgedCalls)
    const dedup: DedupCheck | null = config.keys
      ? await checkDedup(client, publisher, publisher.sample(), config.batch, database.url, callTimeoutMs)
      : null

    const stopped = await server.stop()
    const logs = countLogProblems([server.stdoutFile, server.stderrFile])
    const logsClean = logs.errors + logs.warnings + logs.otherLines === 0

    const seconds = measured.wallMs / 1000
    const persisted = measured.acknowledged
    const persistedPerSecond = round(persisted / seconds, 1)
    const succeeded = measured.calls.filter((call) => call.failed === null)
    const serverCpuSeconds = cpuAfter === null || cpuBefore === null ? null : cpuAfter - cpuBefore
    const store = storeCpuDelta(storeBefore, storeAfter)
    // Backends replaced during the window (the server reconnected) are not read at all: no figure rather than 0.
    const postgresSeconds = store.postgresBackends === 0 ? null : store.postgresSeconds
    const publisherCpuSeconds = (ownUsed.user + ownUsed.system) / 1e6
    const exitCode = rowCheck.ok && (dedup === null || dedup.ok) ? 0 : 1

    const report = {
      benchmark: "persist",
      startedAt,
      machine: { ...machineAtStart, loadAverageAtEnd: machine().loadAverage },
      versions: await usedVersions(),
      parameters: {
        ...config,
        callTimeoutMs,
        herald: "one server process, machine's PostgreSQL, no REDIS_URL (single runner); this process publishes"
      },
      definitions,
      target: {
        persistedPerSecond: targetPerSecond,
        reached: persistedPerSecond >= targetPerSecond,
        ratio: round(persistedPerSecond / targetPerSecond, 3)
      },
      figures: {
        persisted,
        seconds: round(seconds, 3),
        persistedPerSecond,
        callsPerSecond: round(succeeded.length / seconds, 1),
        callLatencyMs: summarize(succeeded.map((call) => call.ms)),
        serverCpuSeconds: serverCpuSeconds === null ? null : round(serverCpuSeconds),
        serverCpuMsPer1kPersisted: per1k(serverCpuSeconds, persisted),
        postgresCpuSeconds: postgresSeconds === null ? null : round(postgresSeconds),
        postgresCpuMsPer1kPersisted: per1k(postgresSeconds, persisted),
        postgresBackendsRead: store.postgresBackends,
        publisherCpuMsPer1kPersisted: per1k(publisherCpuSeconds, persisted),
        publisherEventLoopDelayMs: {
          p50: round(loopDelay.percentile(50) / 1e6),
          p99: round(loopDelay.percentile(99) / 1e6),
          max: round(loopDelay.max / 1e6)
        },
        serverRssMbAtEnd: rssAtEnd?.rssMb ?? null,
        errorsByTag: measured.errorsByTag
      },
      phases: { warmup: phaseFigures(warmup), measured: phaseFigures(measured) },
      settled: settled === null
        ? null
        : { calls: settled.calls, items: settled.items, storedByFailedAttempt: settled.storedByFailedAttempt, unsettledCalls: settled.unsettled.length },
      unsettledItems: sum([...unsettled].map((call) => call.size)),
      rowCheck,
      dedupCheck: dedup === null ? null : { ...dedup, latencyMs: summarize(dedup.latencyMs) },
      server: { exit: stopped, logErrors: logs.errors, logWarnings: logs.warnings, logOtherLines: logs.otherLines, logDir: logsClean ? null : server.logDir },
      // The profile is written when the server exits, so it covers its whole life (start, warm-up, checks).
      profile: profileDir === null ? null : topSelfTime(profileDir, root),
      verdict: { rowsOk: rowCheck.ok, dedupOk: dedup?.ok ?? null, exitCode }
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    const latency = report.figures.callLatencyMs
    const errors = Object.entries(measured.errorsByTag).map(([tag, n]) => `${tag} ${n}`).join(", ") || "none"
    say([
      "",
      `  persisted/s ${persistedPerSecond} (target ${targetPerSecond}: ${report.target.reached ? "reached" : `${round(report.target.ratio * 100, 1)}%`}), ` +
      `${persisted} items in ${round(seconds, 2)} s, calls/s ${report.figures.callsPerSecond}`,
      `  call latency ms ${"p50" in latency ? `p50 ${latency.p50} p95 ${latency.p95} p99 ${latency.p99} max ${latency.max}` : "-"}`,
      `  CPU ms per 1,000 persisted: server ${report.figures.serverCpuMsPer1kPersisted ?? "-"}, ` +
      `PostgreSQL ${report.figures.postgresCpuMsPer1kPersisted ?? "-"}, publisher ${report.figures.publisherCpuMsPer1kPersisted ?? "-"}`,
      `  errors: ${errors}` + (settled === null ? "" : `; failed calls sent again: ${settled.calls} answered ` +
        `(${settled.storedByFailedAttempt} of their ${settled.items} items already stored), ${settled.unsettled.length} not`),
      `  rows ${rowCheck.rows}, expected ${rowCheck.expected} (lost ${rowCheck.lost}, duplicated ${rowCheck.duplicated}, ` +
      `stored unacknowledged ${rowCheck.storedUnacknowledged}): ${rowCheck.ok ? "ok" : "FAILED"}`,
      dedup === null
        ? "  dedup check: skipped (--keys off)"
        : `  re-sent ${dedup.sent}: deduplicated ${dedup.deduplicated}, not ${dedup.notDeduplicated}, id changed ${dedup.idChanged}, ` +
          `failed calls ${dedup.failedCalls}; rows ${dedup.rowsBefore} → ${dedup.rowsAfter}: ${dedup.ok ? "ok" : "FAILED"}`,
      ...(report.profile === null
        ? []
        : [`  server top self time (${report.profile.file}):`, ...report.profile.functions.map((f) =>
          `  ${f.selfMs.toFixed(0).padStart(8)} ms ${f.percent.toFixed(1).padStart(5)}%  ${f.function}  ${f.location}`
        )]),
      `  exit ${exitCode}`
    ].join("\n"))
    if (logsClean) rmSync(server.logDir, { recursive: true, force: true })
    else say(`  server logged ${logs.errors} errors, ${logs.warnings} warnings, ${logs.otherLines} other lines: kept in ${server.logDir}`)
    return exitCode
  } catch (error: unknown) {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    if (server !== undefined) process.stderr.write(`server stderr (tail):\n${tail(server.stderrFile)}\n`)
    return 2
  } finally {
    await running.stop()
    running.stop = undefined
  }
}

process.exitCode = await main()
