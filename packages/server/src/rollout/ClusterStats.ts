/**
 * Delivery stats of the whole cluster: this node's counts (`MinuteStats`)
 * are written to `node_stats` every 2 s, and a read sums every node's rows
 * in the window. This node's own unwritten segments are taken from memory
 * instead of the table, so its events count at once and others' within a
 * flush interval; any node answering `GetStats` or running the guard sees
 * the same numbers once the last flush of every node has landed.
 * `series` answers the same histograms minute by minute for the admin chart.
 */
import { DeliveryStats, LatencyPoint, LatencyStats, MaxSeriesMinutes, type StatsWindow, type StorageUnavailable } from "@herald/domain"
import { Context, DateTime, Effect, Layer, Schedule } from "effect"
import { type StatsRow, StatsRepo } from "../storage/StatsRepo.ts"
import { mergeInto, percentile, sampleCount, type SparseHistogram } from "./LatencyHistogram.ts"
import { makeMinuteStats, MinuteMillis, minuteOf, nonEmpty, type Segment, windowStart } from "./MinuteStats.ts"
import { LatencySeries, type StatsRecorder } from "./StatsRecorder.ts"

const FlushEvery = "2 seconds"
// Long enough for the longest latency series (the 1 h stats window needs less).
const KeepMillis = (MaxSeriesMinutes + 1) * MinuteMillis

/** Counters and merged histograms summed over every node in a window. */
export interface ClusterTotals {
  readonly sessions: number
  readonly errors: number
  readonly resumed: number
  readonly duplicatePushes: number
  readonly lost: number
  readonly latency: Readonly<Record<LatencySeries, SparseHistogram>>
  /** Nodes with a segment in the window, this one included. */
  readonly nodes: number
}

export const WindowSeconds: Record<StatsWindow, number> = { "1m": 60, "5m": 300, "1h": 3600 }

const toRow = (segment: Segment): StatsRow => ({
  startedAt: segment.startedAt,
  minute: segment.minute,
  sessions: segment.sessions,
  errors: segment.errors,
  resumed: segment.resumed,
  duplicatePushes: segment.duplicatePushes,
  lost: segment.lost,
  latency: Object.fromEntries(
    LatencySeries.map((series) => [series, Object.fromEntries(nonEmpty(segment.latency[series]))])
  )
})

const summary = (histogram: SparseHistogram) =>
  new LatencyStats({
    count: sampleCount(histogram),
    p50: percentile(histogram, 0.5),
    p95: percentile(histogram, 0.95),
    p99: percentile(histogram, 0.99)
  })

type Histograms = Record<LatencySeries, Map<number, number>>

const emptyHistograms = (): Histograms => ({
  in_app: new Map(),
  push: new Map(),
  email: new Map(),
  digest: new Map(),
  ack: new Map()
})

const ratio = (part: number, whole: number) => whole > 0 ? part / whole : null

export class ClusterStats extends Context.Service<ClusterStats, {
  /** Where this node records; what it records reaches the cluster's totals. */
  readonly recorder: StatsRecorder
  /** This node's id in `node_stats` (a fresh uuid per start). */
  readonly nodeId: string
  /** Cluster-wide totals over the segments that started at or after `since` (epoch ms). */
  totals(since: number): Effect.Effect<ClusterTotals, StorageUnavailable>
  /** Starts a new segment of this node now, so a read from now on can leave out what came before. */
  readonly split: Effect.Effect<void>
  /** The admin stats over a window: `GetStats`. */
  stats(window: StatsWindow): Effect.Effect<DeliveryStats, StorageUnavailable>
  /**
   * Latency per minute over the last `minutes` (the current one last), every minute present:
   * `GetLatencySeries`. Summed the way `totals` sums a window, one histogram per minute.
   */
  series(minutes: number): Effect.Effect<ReadonlyArray<LatencyPoint>, StorageUnavailable>
}>()("@herald/server/rollout/ClusterStats") {
  static readonly layer = Layer.effect(ClusterStats, Effect.gen(function*() {
    const repo = yield* StatsRepo
    const nodeId = crypto.randomUUID()
    const memory = makeMinuteStats()
    let prunedMinute = 0

    const flush = Effect.gen(function*() {
      const segments = memory.unflushed()
      yield* repo.write(nodeId, segments.map(toRow))
      memory.flushed(segments)
      // Once a minute is enough: rows are per minute.
      const minute = minuteOf(Date.now())
      if (minute !== prunedMinute) {
        yield* repo.prune(Date.now() - KeepMillis)
        prunedMinute = minute
      }
    }).pipe(Effect.withSpan("ClusterStats.flush"))

    yield* flush.pipe(
      Effect.catch((error) => Effect.logWarning("could not write delivery stats", error.message)),
      Effect.repeat(Schedule.spaced(FlushEvery)),
      Effect.forkScoped
    )
    // What this node counted since the last flush would otherwise be lost at a clean stop.
    yield* Effect.addFinalizer(() => flush.pipe(Effect.timeout("2 seconds"), Effect.ignore))

    const totals = Effect.fn("ClusterStats.totals")(function*(since: number) {
      const local = memory.unflushed().filter((segment) => segment.startedAt >= since)
      const stored = yield* repo.sums(since, { nodeId, startedAt: memory.unflushed().map((s) => s.startedAt) })
      const latency = emptyHistograms()
      for (const row of stored.buckets) {
        if (isSeries(row.series)) mergeInto(latency[row.series], [[row.bucket, row.count]])
      }
      const counters = { sessions: stored.sessions, errors: stored.errors, resumed: stored.resumed, duplicatePushes: stored.duplicatePushes, lost: stored.lost }
      for (const segment of local) {
        counters.sessions += segment.sessions
        counters.errors += segment.errors
        counters.resumed += segment.resumed
        counters.duplicatePushes += segment.duplicatePushes
        counters.lost += segment.lost
        for (const series of LatencySeries) mergeInto(latency[series], nonEmpty(segment.latency[series]))
      }
      const nodes = new Set(stored.nodes)
      if (local.length > 0) nodes.add(nodeId)
      return { ...counters, latency, nodes: nodes.size }
    })

    const stats = Effect.fn("ClusterStats.stats")(function*(window: StatsWindow) {
      const now = Date.now()
      const since = windowStart(now, WindowSeconds[window])
      const [t, deliveries] = yield* Effect.all([totals(since), repo.deliveries(since)], { concurrency: 2 })
      const counts = (channel: string) => {
        const row = deliveries.find((d) => d.channel === channel)
        return { sent: row?.sent ?? 0, failed: row?.failed ?? 0, dead: row?.dead ?? 0 }
      }
      const push = counts("push")
      const email = counts("email")
      return new DeliveryStats({
        window,
        since: DateTime.makeUnsafe(since),
        until: DateTime.makeUnsafe(now),
        nodes: t.nodes,
        latency: {
          in_app: summary(t.latency.in_app),
          push: summary(t.latency.push),
          email: summary(t.latency.email),
          digest: summary(t.latency.digest)
        },
        ack: summary(t.latency.ack),
        sockets: {
          sessions: t.sessions,
          errors: t.errors,
          resumed: t.resumed,
          errorRate: ratio(t.errors, t.sessions),
          reconnectionRate: ratio(t.resumed, t.sessions)
        },
        duplicatePushes: t.duplicatePushes,
        lost: t.lost,
        deliveries: { push, email },
        deadLetters: push.dead + email.dead,
        emailsSent: email.sent,
        inAppDelivered: sampleCount(t.latency.in_app)
      })
    })

    const series = Effect.fn("ClusterStats.series")(function*(minutes: number) {
      const since = minuteOf(Date.now()) - (minutes - 1) * MinuteMillis
      const unflushed = memory.unflushed()
      const stored = yield* repo.minuteBuckets(since, { nodeId, startedAt: unflushed.map((s) => s.startedAt) })
      const byMinute = new Map<number, Histograms>()
      const at = (minute: number) => {
        const found = byMinute.get(minute)
        if (found !== undefined) return found
        const made = emptyHistograms()
        byMinute.set(minute, made)
        return made
      }
      for (const row of stored) {
        if (isSeries(row.series)) mergeInto(at(row.minute)[row.series], [[row.bucket, row.count]])
      }
      for (const segment of unflushed) {
        if (segment.startedAt < since) continue
        for (const name of LatencySeries) mergeInto(at(segment.minute)[name], nonEmpty(segment.latency[name]))
      }
      const none = emptyHistograms()
      return Array.from({ length: minutes }, (_, i) => {
        const minute = since + i * MinuteMillis
        const h = byMinute.get(minute) ?? none
        return new LatencyPoint({
          minute: DateTime.makeUnsafe(minute),
          channels: {
            in_app: summary(h.in_app),
            push: summary(h.push),
            email: summary(h.email),
            digest: summary(h.digest),
            ack: summary(h.ack)
          }
        })
      })
    })

    return ClusterStats.of({
      recorder: memory.recorder,
      nodeId,
      totals,
      split: Effect.sync(() => memory.split()),
      stats,
      series
    })
  }))
}

const isSeries = (name: string): name is LatencySeries => LatencySeries.some((series) => series === name)
