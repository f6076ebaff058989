/**
 * Comparison benchmark (issue 10): Herald embedded, a Herald cluster, bare
 * `ws` and Socket.IO with its Redis adapter under the same load, side by
 * side. For each system, each socket count K and each rate P: fresh
 * servers, K sockets (one user each) opened by load generator processes,
 * P notifications a second for T seconds from a publisher process, all
 * apart from the servers (publishes due in the same tick share a call, up
 * to --publish-batch, for every system). Figures per run: publish → receive latency
 * (p50/p95/p99/max), sustained deliveries a second, connection set-up rate,
 * server RSS per idle socket, server CPU per 1,000 deliveries (and the
 * backing store's), loss and duplicates; then Herald ÷ ws and Herald ÷
 * Socket.IO per figure.
 *
 *   node test/bench/compare.ts [--systems herald,herald-cluster,ws,socketio] [--sockets 10000,25000,50000]
 *                              [--rate 500] [--seconds 20] [--publish-batch 100] [--quick] [--json-only] …   (--help for all)
 *
 * Output: one JSON document on stdout (machine, versions, parameters,
 * definitions, every run's figures, ratios), a table on stderr unless
 * --json-only. Nothing is judged on time. The exit code is the correctness
 * check: 1 when a Herald system lost or duplicated an accepted
 * notification, 2 when a run could not be set up; a run that needs more
 * file descriptors per process than `ulimit -n` allows is not run and says so.
 */
import { resolve } from "node:path"
import { config, type SystemName } from "./support/compareOptions.ts"
import { definitions, headlineDirection, ratios, type RunFigures, runFigures } from "./support/compareFigures.ts"
import { type RunOutcome, type RunPlan, runOnce, stopCurrentRun } from "./support/compareRun.ts"
import { compareTable } from "./support/compareTable.ts"
import { topSelfTime } from "./support/cpuProfile.ts"
import { summarizeHeap } from "./support/heapSnapshot.ts"
import { summarizeAllocations } from "./support/allocationProfile.ts"
import { machine, versions } from "./support/versions.ts"
import { fileLimit } from "./support/system.ts"

const root = resolve(import.meta.dirname, "../..")
const say = (line: string) => {
  if (!config.jsonOnly) process.stderr.write(`${line}\n`)
}

const processesOf = (system: SystemName): number =>
  system === "herald-cluster" ? config.clusterNodes : system === "socketio" ? config.socketioNodes : 1

// Every socket is a descriptor on both ends: the server process holding it and the generator that opened it.
const limit = Number(fileLimit())
const descriptorsFree = Number.isFinite(limit) ? limit - 1000 : Number.POSITIVE_INFINITY

interface Skipped {
  readonly system: SystemName
  readonly sockets: number
  readonly ratePerSecond: number
  readonly reason: string
}

const plans: Array<RunPlan> = []
const skipped: Array<Skipped> = []
for (const sockets of config.sockets) {
  const generators = Math.max(config.generators ?? Math.ceil(sockets / 10_000), Math.ceil(sockets / descriptorsFree))
  for (const ratePerSecond of config.rates) {
    for (const system of config.systems) {
      const perServer = Math.ceil(sockets / processesOf(system))
      if (perServer > descriptorsFree) {
        skipped.push({
          system,
          sockets,
          ratePerSecond,
          reason: `${perServer} sockets on one server process need more file descriptors than ulimit -n (${limit}) leaves`
        })
      } else {
        plans.push({ system, sockets, ratePerSecond, generators })
      }
    }
  }
}

// Ctrl-C stops the servers and drops the database rather than leaving them behind.
process.once("SIGINT", () => {
  process.stderr.write("interrupted: stopping the run's servers and dropping its database\n")
  void stopCurrentRun().finally(() => process.exit(130))
})

const main = async (): Promise<number> => {
  const started = performance.now()
  const startedAt = new Date().toISOString()
  const machineAtStart = machine()
  const outcomes: Array<RunOutcome> = []
  for (const plan of plans) outcomes.push(await runOnce(plan, config, root, say))

  const runs: Array<RunFigures> = []
  const failed: Array<Extract<RunOutcome, { _tag: "failed" }>> = []
  let profile: ReturnType<typeof topSelfTime> = null
  let heap: ReturnType<typeof summarizeHeap> = null
  let allocations: ReturnType<typeof summarizeAllocations> = null
  for (const outcome of outcomes) {
    if (outcome._tag === "failed") {
      failed.push(outcome)
      continue
    }
    runs.push(runFigures(outcome.readings))
    const dir = outcome.readings.profileDir
    if (dir !== null && profile === null) profile = topSelfTime(dir, root)
    const snapshot = outcome.readings.heapSnapshot
    if (snapshot !== null && heap === null) heap = summarizeHeap(snapshot, outcome.readings.plan.sockets)
    const allocDir = outcome.readings.allocDir
    if (allocDir !== null && allocations === null) allocations = summarizeAllocations(allocDir, root, outcome.readings.publishes)
  }
  const ratioRows = ratios(runs)
  const herald = runs.filter((run) => run.system === "herald" || run.system === "herald-cluster")
  const verdict = {
    heraldLost: herald.reduce((total, run) => total + run.correctness.lost, 0),
    heraldDuplicates: herald.reduce((total, run) => total + run.correctness.duplicates + run.correctness.appDuplicates, 0),
    heraldMisdelivered: herald.reduce((total, run) => total + run.correctness.misdelivered, 0),
    failedRuns: failed.length
  }
  const exitCode = verdict.heraldLost + verdict.heraldDuplicates + verdict.heraldMisdelivered > 0 ? 1 : failed.length > 0 ? 2 : 0
  const report = {
    benchmark: "compare",
    startedAt,
    durationS: Math.round((performance.now() - started) / 1000),
    machine: { ...machineAtStart, loadAverageAtEnd: machine().loadAverage },
    versions: await versions(root),
    parameters: {
      ...config,
      herald: `embedded = one server process, machine's PostgreSQL over ${
        config.pgSocketDir === null ? "TCP" : "its Unix socket, as the embedded default connects"
      }, no REDIS_URL (single runner)`
    },
    definitions,
    headlineDirection,
    runs,
    ratios: ratioRows,
    skipped,
    failed,
    profile,
    heap,
    allocations,
    verdict: { ...verdict, exitCode }
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  if (!config.jsonOnly) {
    process.stderr.write(compareTable(runs, ratioRows, [...skipped, ...failed.map((f) => ({ ...f.plan, reason: `failed: ${f.error}` }))]))
    if (profile !== null) {
      process.stderr.write(`\n  embedded Herald server, top self time (${profile.file}):\n`)
      for (const f of profile.functions) process.stderr.write(`  ${f.selfMs.toFixed(0).padStart(8)} ms ${f.percent.toFixed(1).padStart(5)}%  ${f.function}  ${f.location}\n`)
    }
    if (allocations !== null) {
      const a = allocations
      process.stderr.write(
        `\n  embedded Herald server, allocated in the measured window: ${a.sampledMb} MB, ${a.perDeliveryKb} KB per delivery; ` +
          `copying Context maps ${a.contextCopiesMb} MB (${a.contextCopiesPercent}%) (${a.file}):\n`
      )
      for (const f of a.top) process.stderr.write(`  ${f.mb.toFixed(1).padStart(8)} MB ${f.percent.toFixed(1).padStart(5)}%  ${f.function}  ${f.location}\n`)
    }
    if (heap !== null) {
      process.stderr.write(`\n  embedded Herald server heap with ${heap.sockets} idle sockets: ${heap.totalMb} MB (${heap.file})\n`)
      process.stderr.write(`  ${"kind".padEnd(50)} ${"count".padStart(9)} ${"KB".padStart(8)} ${"/socket".padStart(8)} ${"B/socket".padStart(9)}\n`)
      for (const k of heap.top) {
        process.stderr.write(`  ${k.kind.padEnd(50)} ${String(k.count).padStart(9)} ${String(k.kb).padStart(8)} ${String(k.perSocket).padStart(8)} ${String(k.bytesPerSocket).padStart(9)}\n`)
      }
    }
    process.stderr.write(`\n  ${report.durationS} s; Herald lost ${verdict.heraldLost}, duplicated ${verdict.heraldDuplicates}; exit ${exitCode}\n`)
  }
  return exitCode
}

process.exitCode = await main()
