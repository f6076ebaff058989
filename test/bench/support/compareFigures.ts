/**
 * The figures of one comparison run, from its raw readings, and the ratios
 * between systems. Definitions (also in the JSON, under `definitions`):
 *
 * - latency: publish start (the publisher's clock, before the HTTP call) →
 *   the frame's arrival at the socket (before parsing), over accepted
 *   publishes that arrived;
 * - sustained/s: publishes received ÷ (last arrival − first publish start);
 * - connect/s: K ÷ (last socket ready − first dial), over all generators;
 * - KB per idle socket: (servers' RSS with K idle sockets − RSS before any)
 *   ÷ K;
 * - CPU ms per 1,000 deliveries: the servers' utime+stime from just before
 *   the first publish to the end of the drain, ÷ deliveries × 1,000 (the
 *   backing store's apart);
 * - lost: accepted but never received; duplicates: a second frame of one
 *   publish on its socket.
 */
import type { RunReadings } from "./compareRun.ts"
import type { SystemName } from "./compareOptions.ts"
import { round, summarize } from "./stats.ts"

const sum = (values: ReadonlyArray<number>) => values.reduce((total, value) => total + value, 0)
const perThousand = (seconds: number | null, deliveries: number) =>
  seconds === null || deliveries === 0 ? null : round(seconds * 1e6 / deliveries, 1)

export const definitions = {
  latencyMs: "publish start (publisher process, before the call) to arrival at the socket (load generator, before parsing), shared monotonic clock",
  latencyFromSlotMs: "the same from the publish's slot in the open-loop schedule: adds the wait for a free in-flight slot when --max-in-flight was reached",
  latencyBySecondMs: "latencyMs per second of the measured run, by when the publish started: count, p50, p99, max",
  sustainedPerSecond: "publishes received / (last arrival - first publish start)",
  connectPerSecond: "sockets / (last socket ready - first dial), all generators at once",
  rssPerIdleSocketKb: "(sum of server processes' RSS with K idle sockets - RSS before any socket) / K",
  cpuMsPer1000Deliveries: "server processes' utime+stime over the publish phase (first publish to end of drain) per 1,000 deliveries",
  storeCpuMsPer1000Deliveries: "PostgreSQL backends of the run's database + private redis-server, same window",
  lost: "accepted by the server (2xx / Notify succeeded) but never received by the user's socket",
  duplicates: "a second frame of the same publish on one socket"
} as const

/** The figures compared across systems, and which way is better. */
export const headlineDirection = {
  latencyP50Ms: "lower",
  latencyP95Ms: "lower",
  latencyP99Ms: "lower",
  latencyMaxMs: "lower",
  sustainedPerSecond: "higher",
  connectPerSecond: "higher",
  rssPerIdleSocketKb: "lower",
  cpuMsPer1000Deliveries: "lower"
} as const
export type Headline = { readonly [K in keyof typeof headlineDirection]: number | null }

export const runFigures = (r: RunReadings) => {
  const { plan, published } = r
  const receivedAt = new Float64Array(r.publishes).fill(Number.NaN)
  for (const receipt of r.receipts) {
    receipt.indices.forEach((index, j) => {
      receivedAt[index] = receipt.at[j] ?? Number.NaN
    })
  }
  const latencies: Array<number> = []
  const fromSlot: Array<number> = []
  const firstStart = Math.min(...published.startedAt)
  // By the second of the run the publish started in: a tail made of a few stalls shows as a few
  // bad seconds, one made of steady queueing as every second's p99.
  const bySecond: Array<Array<number>> = []
  let lost = 0
  let deliveredDespiteFailure = 0
  let lastArrival = Number.NEGATIVE_INFINITY
  for (let i = 0; i < r.publishes; i++) {
    const at = receivedAt[i] ?? Number.NaN
    const ok = published.ok[i] === 1
    if (!Number.isNaN(at)) lastArrival = Math.max(lastArrival, at)
    if (ok && Number.isNaN(at)) lost++
    else if (ok) {
      const started = published.startedAt[i] ?? at
      latencies.push(at - started)
      const second = Math.floor((started - firstStart) / 1000)
      ;(bySecond[second] ??= []).push(at - started)
      fromSlot.push(at - (started - (published.lagMs[i] ?? 0)))
    }
    else if (!Number.isNaN(at)) deliveredDespiteFailure++
  }
  const received = latencies.length + deliveredDespiteFailure
  const accepted = sum(published.ok)
  const latency = summarize(latencies)
  const dialled = Math.min(...r.opened.map((o) => o.startedAt))
  const ready = Math.max(...r.opened.map((o) => o.endedAt))
  const connectPerSecond = round(plan.sockets / ((ready - dialled) / 1000), 1)
  const rssPerIdleSocketKb = round((r.rssWithSocketsMb - r.rssIdleMb) * 1024 / plan.sockets, 2)
  const storeSeconds = r.store.postgresSeconds === null && r.store.redisSeconds === null
    ? null
    : (r.store.postgresSeconds ?? 0) + (r.store.redisSeconds ?? 0)
  const sustainedPerSecond = received === 0 ? 0 : round(received / ((lastArrival - firstStart) / 1000), 1)
  const cpuMsPer1000Deliveries = perThousand(r.serverCpuSeconds, received)
  const correctness = {
    published: r.publishes,
    accepted,
    received,
    lost,
    duplicates: sum(r.receipts.map((x) => x.wireDuplicates)),
    // What a Herald client would show twice after its cursor rule (0 for the competitors' plain counting too).
    appDuplicates: sum(r.receipts.map((x) => x.appDuplicates)),
    misdelivered: sum(r.receipts.map((x) => x.misdelivered)),
    unmatched: sum(r.receipts.map((x) => x.unmatched)),
    deliveredDespiteFailure,
    socketsClosedEarly: sum(r.receipts.map((x) => x.closedUnexpectedly)),
    socketsOpenAtEnd: sum(r.receipts.map((x) => x.open)),
    malformedFrames: sum(r.receipts.map((x) => x.errorFrames))
  }
  const headline: Headline = {
    latencyP50Ms: "p50" in latency ? latency.p50 : null,
    latencyP95Ms: "p95" in latency ? latency.p95 : null,
    latencyP99Ms: "p99" in latency ? latency.p99 : null,
    latencyMaxMs: "max" in latency ? latency.max : null,
    sustainedPerSecond,
    connectPerSecond,
    rssPerIdleSocketKb,
    cpuMsPer1000Deliveries
  }
  return {
    system: plan.system,
    sockets: plan.sockets,
    ratePerSecond: plan.ratePerSecond,
    generators: r.opened.length,
    serverProcesses: r.serverPids.length,
    headline,
    latencyMs: latency,
    // From the publish's slot in the schedule rather than its start: includes the wait for a free
    // in-flight slot, so it is the honest figure when the publisher's cap was reached (schedule lag).
    latencyFromSlotMs: summarize(fromSlot),
    latencyBySecondMs: Array.from(bySecond, (samples = [], second) => {
      const summary = summarize(samples)
      return "p50" in summary
        ? { second, count: summary.count, p50: summary.p50, p99: summary.p99, max: summary.max }
        : { second, count: 0 }
    }),
    publish: {
      offeredPerSecond: round(published.sendSpanMs > 0 ? (r.publishes - 1) / (published.sendSpanMs / 1000) : 0, 1),
      callMs: summarize(published.callMs),
      scheduleLagMs: summarize(published.lagMs),
      maxInFlightSeen: published.maxInFlightSeen,
      // How much coalescing there was: it depends on how many publishes fall due in one timer tick.
      calls: published.calls,
      publishesPerCall: published.calls === 0 ? null : round(r.publishes / published.calls, 2),
      largestCall: published.largestCall,
      // What went over the wire: Herald's client merges calls that wait for an open one.
      requests: published.requests,
      publishesPerRequest: published.requests === 0 ? null : round(r.publishes / published.requests, 2),
      failuresByTag: published.failuresByTag,
      retriesByTag: published.retriesByTag
    },
    connections: {
      totalMs: round(ready - dialled),
      perSocketMs: summarize(r.opened.flatMap((o) => o.connectMs))
    },
    memory: { rssIdleMb: round(r.rssIdleMb, 1), rssWithSocketsMb: round(r.rssWithSocketsMb, 1) },
    cpu: {
      serverSeconds: round(r.serverCpuSeconds),
      storeSeconds: storeSeconds === null ? null : round(storeSeconds),
      postgresSeconds: r.store.postgresSeconds === null ? null : round(r.store.postgresSeconds),
      postgresBackends: r.store.postgresBackends,
      redisSeconds: r.store.redisSeconds === null ? null : round(r.store.redisSeconds),
      storeCpuMsPer1000Deliveries: perThousand(storeSeconds, received),
      publisherSeconds: round(published.cpuSeconds),
      generatorSeconds: round(r.generatorCpuSeconds)
    },
    correctness,
    drainMs: round(r.drainMs),
    serverLogs: r.logs
  }
}
export type RunFigures = ReturnType<typeof runFigures>

const heralds: ReadonlyArray<SystemName> = ["herald", "herald-cluster"]
const competitors: ReadonlyArray<SystemName> = ["ws", "socketio"]

/**
 * Per sockets × rate: each Herald system's headline figure divided by each
 * competitor's (`herald/ws`, `herald-cluster/socketio`, …); null where
 * either is missing or the divisor is 0. Above 1 is better for Herald where
 * `higher` is, worse where `lower` is.
 */
export const ratios = (runs: ReadonlyArray<RunFigures>) => {
  const out: Array<{ readonly sockets: number; readonly ratePerSecond: number; readonly pair: string; readonly ratios: Record<string, number | null> }> = []
  const keys = Object.keys(headlineDirection).filter((key): key is keyof Headline => key in headlineDirection)
  for (const h of runs.filter((run) => heralds.includes(run.system))) {
    for (const c of runs.filter((run) => competitors.includes(run.system) && run.sockets === h.sockets && run.ratePerSecond === h.ratePerSecond)) {
      const values: Record<string, number | null> = {}
      for (const key of keys) {
        const a = h.headline[key]
        const b = c.headline[key]
        values[key] = a === null || b === null || b === 0 ? null : round(a / b, 2)
      }
      out.push({ sockets: h.sockets, ratePerSecond: h.ratePerSecond, pair: `${h.system}/${c.system}`, ratios: values })
    }
  }
  return out
}
