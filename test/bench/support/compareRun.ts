/**
 * One run of the comparison: one system, K sockets, P notifications a
 * second for T seconds, on fresh servers. In order:
 *
 * 1. start the system; read its servers' RSS with no socket open;
 * 2. fork the socket generators, let each sign its tokens, then open all
 *    sockets at once (set-up rate = K / the wall time until the last is
 *    ready); after a pause, read RSS again: (with − idle) / K per socket;
 * 3. fork the publisher; warm up; read the servers' and the backing store's
 *    CPU; publish; wait until every accepted publish has arrived or nothing
 *    has for the drain timeout; read the CPU again;
 * 4. collect the receipts and stop everything.
 *
 * The raw readings go to `compareFigures.ts`; a run that could not be set
 * up returns the reason instead.
 */
import { runId, tokenSecret } from "./benchKeys.ts"
import type { CompareConfig, SystemName } from "./compareOptions.ts"
import { type RunningSystem, startSystem } from "./compareSystems.ts"
import { forkLoad, type LoadProcess } from "./loadProcess.ts"
import { readStoreCpu, storeCpuDelta } from "./storeCpu.ts"
import { fileWritten } from "./heapSnapshot.ts"
import { readCpuSeconds } from "./system.ts"
import {
  FromPublisher,
  FromSockets,
  type Opened,
  type Published,
  type Receipts,
  type ToPublisher,
  type ToSockets
} from "../load/messages.ts"

export interface RunPlan {
  readonly system: SystemName
  readonly sockets: number
  readonly ratePerSecond: number
  readonly generators: number
}

export interface RunReadings {
  readonly plan: RunPlan
  readonly publishes: number
  readonly serverPids: ReadonlyArray<number>
  readonly rssIdleMb: number
  readonly rssWithSocketsMb: number
  readonly opened: ReadonlyArray<typeof Opened.Type>
  readonly published: typeof Published.Type
  readonly receipts: ReadonlyArray<typeof Receipts.Type>
  readonly drainMs: number
  readonly serverCpuSeconds: number
  readonly store: ReturnType<typeof storeCpuDelta>
  readonly generatorCpuSeconds: number
  readonly logs: Awaited<ReturnType<RunningSystem["stop"]>>
  readonly profileDir: string | null
  /** The embedded server's allocation profile of the measured window (`--alloc-profile`). */
  readonly allocDir: string | null
  /** The embedded server's heap snapshot with its sockets open (with `--heap-snapshot`). */
  readonly heapSnapshot: string | null
}

export type RunOutcome =
  | { readonly _tag: "ran"; readonly readings: RunReadings }
  | { readonly _tag: "failed"; readonly plan: RunPlan; readonly error: string; readonly details: Record<string, unknown> }

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))
const sum = (values: ReadonlyArray<number>) => values.reduce((total, value) => total + value, 0)
const message = (error: unknown) => error instanceof Error ? error.message : String(error)

const totalRss = (system: RunningSystem): number => sum(system.servers.map((server) => server.memory()?.rssMb ?? Number.NaN))
const totalCpu = (system: RunningSystem): number => sum(system.servers.map((server) => readCpuSeconds(server.pid) ?? Number.NaN))

type SocketsProcess = LoadProcess<ToSockets, FromSockets>
type PublisherProcess = LoadProcess<ToPublisher, FromPublisher>

class SetupFailed extends Error {
  readonly details: Record<string, unknown>
  constructor(problem: string, details: Record<string, unknown>) {
    super(problem)
    this.details = details
  }
}

// What a Ctrl-C has to stop: the run under way's generators, publisher and system.
const current: { stop: (() => Promise<unknown>) | undefined } = { stop: undefined }

/** Stops the run under way, if any (servers, Redis, its database dropped). */
export const stopCurrentRun = (): Promise<unknown> => current.stop?.() ?? Promise.resolve()

export const runOnce = async (
  plan: RunPlan,
  config: CompareConfig,
  root: string,
  say: (line: string) => void
): Promise<RunOutcome> => {
  const label = `[${plan.system} ${plan.sockets} sockets ${plan.ratePerSecond}/s]`
  const publishes = plan.ratePerSecond * config.seconds
  const prefix = `${runId}-${plan.system}-${plan.sockets}-${plan.ratePerSecond}-`
  const generators: Array<SocketsProcess> = []
  let publisher: PublisherProcess | undefined
  let system: RunningSystem | undefined
  current.stop = async () => {
    for (const generator of generators) generator.kill()
    publisher?.kill()
    await system?.stop()
  }
  try {
    say(`${label} starting`)
    system = await startSystem(plan.system, { root, config })
    await sleep(config.settleMs)
    const rssIdleMb = totalRss(system)

    // Generator g takes a contiguous share of the users; socket i of the run dials node i % nodes.
    const share = Math.ceil(plan.sockets / plan.generators)
    for (let g = 0; g < plan.generators; g++) {
      const firstUser = g * share
      const users = Math.min(share, plan.sockets - firstUser)
      if (users <= 0) break
      const nodes = system.socketUrls
      const urls = nodes.map((_, n) => nodes[(firstUser + n) % nodes.length] ?? "")
      const generator: SocketsProcess = forkLoad("sockets.ts", FromSockets)
      generators.push(generator)
      generator.send({
        _tag: "prepare",
        protocol: system.protocol,
        urls,
        firstUser,
        users,
        totalUsers: plan.sockets,
        tokenSecret,
        concurrency: Math.max(1, Math.round(config.connectConcurrency / plan.generators)),
        timeoutMs: 60_000,
        prefix,
        publishes
      })
    }
    await Promise.all(generators.map((generator) => generator.next("prepared", 120_000)))
    say(`${label} opening ${plan.sockets} sockets from ${generators.length} generator process(es)`)
    for (const generator of generators) generator.send({ _tag: "open" })
    const opened = await Promise.all(generators.map((generator) => generator.next("opened", 600_000)))
    const failures = sum(opened.map((o) => o.failures))
    if (failures > 0) {
      const codes: Record<string, number> = {}
      for (const o of opened) for (const [code, n] of Object.entries(o.failureCodes)) codes[code] = (codes[code] ?? 0) + n
      throw new SetupFailed(`${failures} of ${plan.sockets} sockets did not get ready`, {
        failuresByCode: codes,
        firstFailure: opened.find((o) => o.firstFailure !== null)?.firstFailure ?? null
      })
    }
    const progress = new Map<number, { readonly received: number }>()
    generators.forEach((generator, g) => generator.on("progress", (p) => progress.set(g, { received: p.received })))
    await sleep(config.settleMs)
    const rssWithSocketsMb = totalRss(system)
    const heapSnapshot = system.heapDir === null ? null : await takeHeapSnapshot(system, system.heapDir, say)

    say(`${label} warming up, then publishing ${publishes} at ${plan.ratePerSecond}/s for ${config.seconds} s, up to ${config.publishBatch} per call`)
    const publishing: PublisherProcess = forkLoad("publish.ts", FromPublisher)
    publisher = publishing
    publishing.send({
      _tag: "publish",
      target: system.target,
      totalUsers: plan.sockets,
      count: publishes,
      ratePerSecond: plan.ratePerSecond,
      maxInFlight: config.maxInFlight,
      prefix,
      warmup: config.warmup,
      publishBatch: config.publishBatch,
      clientCallsInFlight: config.clientCalls
    })
    await publishing.next("warmed", 180_000)
    // The warm-up's last frames arrive, and nothing of it is in the measured CPU.
    await sleep(1_000)
    const storeBefore = await readStoreCpu(system.databaseName, system.redisUrl)
    const cpuBefore = totalCpu(system)
    if (system.allocDir !== null) signalServer(system)
    publishing.send({ _tag: "go" })
    const published = await publishing.next("published", (config.seconds + 300) * 1000)
    const accepted = sum(published.ok)
    // Drain: until every accepted publish has arrived (as the generators' progress says), or nothing has for a while.
    const received = () => sum([...progress.values()].map((p) => p.received))
    const drainStart = performance.now()
    let seen = received()
    let progressAt = drainStart
    while (seen < accepted && performance.now() - progressAt < config.drainTimeoutMs) {
      await sleep(100)
      const now = received()
      if (now > seen) (seen = now, progressAt = performance.now())
    }
    const drainMs = performance.now() - drainStart
    const cpuAfter = totalCpu(system)
    if (system.allocDir !== null) {
      signalServer(system)
      const file = await fileWritten(system.allocDir, ".heapprofile", 60_000)
      say(file === null ? "allocation profile: none written within 60 s" : `allocation profile: ${file}`)
    }
    const storeAfter = await readStoreCpu(system.databaseName, system.redisUrl)
    // Late duplicates would arrive now.
    await sleep(500)
    for (const generator of generators) generator.send({ _tag: "report" })
    const receipts = await Promise.all(generators.map((generator) => generator.next("receipts", 60_000)))
    for (const generator of generators) generator.send({ _tag: "close" })
    await Promise.all(generators.map((generator) => generator.exit(15_000)))
    await publishing.exit(5_000)
    const serverPids = system.servers.map((server) => server.pid)
    const logs = await system.stop()
    return {
      _tag: "ran",
      readings: {
        plan,
        publishes,
        serverPids,
        rssIdleMb,
        rssWithSocketsMb,
        opened,
        published,
        receipts,
        drainMs,
        serverCpuSeconds: cpuAfter - cpuBefore,
        store: storeCpuDelta(storeBefore, storeAfter),
        generatorCpuSeconds: sum(receipts.map((r) => r.cpuSeconds)),
        logs,
        profileDir: system.profileDir,
        allocDir: system.allocDir,
        heapSnapshot
      }
    }
  } catch (error: unknown) {
    say(`${label} failed: ${message(error)}`)
    return { _tag: "failed", plan, error: message(error), details: error instanceof SetupFailed ? error.details : {} }
  } finally {
    await current.stop()
    current.stop = undefined
  }
}

/**
 * SIGUSR2 to the embedded server: a heap snapshot (`--heapsnapshot-signal`), or the start and
 * then the end of its allocation sampling (`allocationSampler.ts`). False when there is no server.
 */
const signalServer = (system: RunningSystem): boolean => {
  const [server] = system.servers
  if (server === undefined) return false
  process.kill(server.pid, "SIGUSR2")
  return true
}

/** Asks the embedded server for a heap snapshot (SIGUSR2, `--heapsnapshot-signal`) and waits until it is written. */
const takeHeapSnapshot = async (system: RunningSystem, dir: string, say: (line: string) => void): Promise<string | null> => {
  if (!signalServer(system)) return null
  const file = await fileWritten(dir, ".heapsnapshot", 180_000)
  say(file === null ? "heap snapshot: none written within 180 s" : `heap snapshot: ${file}`)
  return file
}
