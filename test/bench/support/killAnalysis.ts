/**
 * What a `kill -9` of one node did to delivery, from the per-publish
 * records. Publishes are placed in time by when their first attempt started,
 * so a publish that needed retries counts against the moment the app first
 * tried, not the moment it finally got through.
 */
import type { AttemptFailure } from "./retryingPublish.ts"
import type { Outage } from "./socketPool.ts"
import { round, summarize } from "./stats.ts"

export interface PublishRecords {
  readonly startedAt: Float64Array
  readonly ok: Uint8Array
  readonly attempts: Uint16Array
  readonly answeredAt: Float64Array
  readonly receivedAt: Float64Array
  readonly failures: ReadonlyArray<AttemptFailure>
}

const ms = (value: number) => round(value, 1)

const count = (keys: ReadonlyArray<string>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1
  return counts
}

/** Publish→receive latencies of the successful, received publishes started in [from, to); and how many were not received. */
const latenciesBetween = (r: PublishRecords, from: number, to: number) => {
  const latencies: Array<number> = []
  let unreceived = 0
  let retried = 0
  for (let i = 0; i < r.startedAt.length; i++) {
    const started = r.startedAt[i] ?? Number.NaN
    if (!(started >= from && started < to)) continue
    if ((r.attempts[i] ?? 0) > 1) retried++
    const received = r.receivedAt[i] ?? Number.NaN
    if (r.ok[i] === 1 && !Number.isNaN(received)) latencies.push(received - started)
    else unreceived++
  }
  return { latencies, unreceived, retried }
}

const window = (r: PublishRecords, from: number, to: number) => {
  const { latencies, retried, unreceived } = latenciesBetween(r, from, to)
  return { publishes: latencies.length + unreceived, retried, unreceived, latencyMs: summarize(latencies) }
}

export interface LatencyWindow {
  /** Start of the window, relative to `origin`. */
  readonly fromMs: number
  readonly publishes: number
  readonly retried: number
  readonly unreceived: number
  readonly p50: number | null
  readonly p95: number | null
  readonly max: number | null
}

/** Publish→receive latency per `windowMs` of first-attempt start, from `from` to the last publish. */
export const latencyWindows = (r: PublishRecords, from: number, origin: number, windowMs: number): Array<LatencyWindow> => {
  const lastStart = r.startedAt.reduce((latest, started) => Math.max(latest, started), from)
  const windows: Array<LatencyWindow> = []
  for (let start = from; start <= lastStart; start += windowMs) {
    const w = window(r, start, start + windowMs)
    const l = w.latencyMs
    windows.push({
      fromMs: ms(start - origin),
      publishes: w.publishes,
      retried: w.retried,
      unreceived: w.unreceived,
      p50: "p50" in l ? l.p50 : null,
      p95: "p95" in l ? l.p95 : null,
      max: "max" in l ? l.max : null
    })
  }
  return windows
}

export const latencySpike = (r: PublishRecords, killAt: number, spanMs: number) => ({
  definition: `publish→receive latency (ms) of publishes whose first attempt started in the ${spanMs / 1000} s before the kill, ` +
    `at any time before it, in the ${spanMs / 1000} s after it, and later; 'unreceived' were not received (failed or lost)`,
  before: window(r, killAt - spanMs, killAt),
  beforeAll: window(r, Number.NEGATIVE_INFINITY, killAt),
  after: window(r, killAt, killAt + spanMs),
  later: window(r, killAt + spanMs, Number.POSITIVE_INFINITY)
})

export const recovery = (r: PublishRecords, killAt: number, windowMs: number, factor: number) => {
  const before = latenciesBetween(r, Number.NEGATIVE_INFINITY, killAt).latencies
  const beforeSummary = summarize(before)
  const threshold = "p95" in beforeSummary ? beforeSummary.p95 * factor : Number.NaN
  const windows = latencyWindows(r, killAt - 5 * windowMs, killAt, windowMs)
  const good = (w: LatencyWindow) => w.unreceived === 0 && (w.p95 === null || w.p95 <= threshold)
  const after = windows.filter((w) => w.fromMs >= 0)
  // Back under once three windows in a row are (heartbeat rounds and GC make single windows noisy).
  const firstGood = after.findIndex((_, i) => after.slice(i, i + 3).length === 3 && after.slice(i, i + 3).every(good))
  const recoveredAfterMs = firstGood < 0 ? null : after[firstGood]?.fromMs ?? null
  const lastBad = after.filter((w) => !good(w)).at(-1)
  const lastAboveAfterMs = lastBad === undefined ? 0 : ms(lastBad.fromMs + windowMs)

  // Refusals by a live node: the user's mailbox was on the dead node and had no owner yet.
  const refusals = r.failures.filter((f) => f.tag === "StorageUnavailable" && f.startedAt >= killAt)
  const refused = new Set(refusals.map((f) => f.publish))
  let firstRefusedOk = Number.POSITIVE_INFINITY
  for (const i of refused) firstRefusedOk = Math.min(firstRefusedOk, r.answeredAt[i] ?? Number.POSITIVE_INFINITY)
  const unreachable = r.failures.filter((f) => f.tag === "ServerUnreachable" && f.startedAt >= killAt - 1_000)

  return {
    definitions: {
      thresholdMs: `${factor} × the p95 publish→receive latency of all publishes started before the kill`,
      latencyRecoveredAfterMs: `publishes are grouped into ${windowMs / 1000} s windows by first-attempt start (see windows, from ${windowMs / 1000 * 5} s before the kill); ` +
        "this is the start (from the kill) of the first window after the kill that, with the next two, has its p95 within the threshold and no unreceived " +
        "publish; null: no three such windows in a row",
      lastWindowAboveThresholdEndsAfterMs: "the end (from the kill) of the last window after the kill above the threshold or with an unreceived publish; 0: none",
      firstRefusedPublishOkAfterMs: "from the kill to the first successful answer to a publish that a surviving node had refused with " +
        "StorageUnavailable after the kill, i.e. to a user whose mailbox shard was on the killed node",
      lastRefusedAttemptStartedAfterMs: "from the kill to the start of the last attempt that was refused with StorageUnavailable; every attempt started later got through"
    },
    thresholdMs: Number.isNaN(threshold) ? null : ms(threshold),
    latencyRecoveredAfterMs: recoveredAfterMs,
    lastWindowAboveThresholdEndsAfterMs: lastAboveAfterMs,
    firstRefusedPublishOkAfterMs: Number.isFinite(firstRefusedOk) ? ms(firstRefusedOk - killAt) : null,
    lastRefusedAttemptStartedAfterMs: refusals.length === 0 ? null : ms(Math.max(...refusals.map((f) => f.startedAt)) - killAt),
    refusedAttempts: refusals.length,
    refusedPublishes: refused.size,
    unreachableAttempts: unreachable.length,
    windows
  }
}

/** How the killed node's sockets came back: from the kill to `synced` on another node. */
export const reconnection = (outages: ReadonlyArray<Outage>, lostUrl: string, killAt: number, sockets: number, urls: ReadonlyArray<string>) => {
  const mine = outages.filter((o) => o.lostUrl === lostUrl && o.closedAt >= killAt)
  const resynced = mine.flatMap((o) => o.resyncedAt === undefined ? [] : [o.resyncedAt - killAt])
  const byNode: Record<string, number> = {}
  for (const o of mine) {
    const node = o.resyncedUrl === undefined ? "none" : `node${urls.indexOf(o.resyncedUrl)}`
    byNode[node] = (byNode[node] ?? 0) + 1
  }
  return {
    definition: "per socket of the killed node: from the kill to the synced frame of its resumed connection on another node",
    sockets,
    closesSeen: mine.length,
    resynced: resynced.length,
    allResyncedAfterMs: resynced.length === sockets && sockets > 0 ? ms(Math.max(...resynced)) : null,
    lastCloseSeenAfterMs: mine.length === 0 ? null : ms(Math.max(...mine.map((o) => o.closedAt - killAt))),
    resyncMs: summarize(resynced),
    attempts: summarize(mine.map((o) => o.attempts)),
    replayedFrames: mine.reduce((sum, o) => sum + o.replayedFrames, 0),
    closeCodes: count(mine.map((o) => String(o.closeCode))),
    resumedOn: byNode,
    // Sockets of the surviving nodes that lost their connection too are in sockets.unexpectedCloses.
    otherOutages: outages.length - mine.length
  }
}

export interface Takeover {
  readonly orphaned: ReadonlySet<number>
  readonly firstReownedAt: number | null
  readonly allReownedAt: number | null
  readonly heldAfter: ReadonlyArray<number>
}

/**
 * The users whose mailbox shard was on the killed node, against the rest:
 * when their publishes got through again, and how slow the first seconds were
 * for each group.
 */
export const mailboxFailover = (
  r: PublishRecords,
  killAt: number,
  spanMs: number,
  takeover: Takeover,
  affected: (publish: number) => boolean
) => {
  let firstOk = Number.POSITIVE_INFINITY
  const groups = { affected: [] as Array<number>, unaffected: [] as Array<number> }
  const unreceived = { affected: 0, unaffected: 0 }
  for (let i = 0; i < r.startedAt.length; i++) {
    const started = r.startedAt[i] ?? Number.NaN
    if (!(started >= killAt)) continue
    const group = affected(i) ? "affected" : "unaffected"
    if (group === "affected" && r.ok[i] === 1) firstOk = Math.min(firstOk, r.answeredAt[i] ?? Number.POSITIVE_INFINITY)
    if (started >= killAt + spanMs) continue
    const received = r.receivedAt[i] ?? Number.NaN
    if (r.ok[i] === 1 && !Number.isNaN(received)) groups[group].push(received - started)
    else unreceived[group]++
  }
  const after = (at: number | null) => at === null ? null : ms(at - killAt)
  return {
    definitions: {
      shardsFirstReownedAfterMs: "from the kill until pg_locks shows the first of the killed node's shards locked by a survivor (polled every 100 ms)",
      shardsReownedAfterMs: "from the kill until pg_locks shows every one of the killed node's shards locked by a survivor",
      firstAffectedPublishOkAfterMs: "from the kill to the first successful answer to a publish started after the kill for a user " +
        "whose mailbox shard was on the killed node (shard by effect/cluster's getShardId, owner by pg_locks just before the kill)",
      latencyMs: `publish→receive latency of publishes started in the ${spanMs / 1000} s after the kill, for those users and for the others`
    },
    shardsOnKilledNode: takeover.orphaned.size,
    shardsFirstReownedAfterMs: after(takeover.firstReownedAt),
    shardsReownedAfterMs: after(takeover.allReownedAt),
    shardsHeldAfter: takeover.heldAfter,
    firstAffectedPublishOkAfterMs: Number.isFinite(firstOk) ? ms(firstOk - killAt) : null,
    latencyMs: { affected: summarize(groups.affected), unaffected: summarize(groups.unaffected) },
    unreceived
  }
}
