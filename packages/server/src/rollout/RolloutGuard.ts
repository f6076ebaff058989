/**
 * The automatic rollback guard. Every second it evaluates the rollout plan's
 * rollback triggers over its window (`HERALD_GUARD_WINDOW`) of what the whole
 * cluster saw (`ClusterStats`: every node's stats, this node's from memory
 * and the others' as written at most 2 s ago), so every node judges the
 * same numbers:
 *
 * - socket error rate above `HERALD_GUARD_MAX_SOCKET_ERROR_RATE` (1 %),
 * - in-app delivery p95 above `HERALD_GUARD_MAX_DELIVERY_P95` (2 s),
 * - any push sent twice for the same delivery,
 * - any accepted notification missing from the store (checked a second
 *   after it was accepted),
 *
 * and on a breach trips the kill switch itself: the change is audited with
 * actor `guard` and the trigger's value and threshold, logged as an error
 * and counted in `herald_rollout_guard_trips_total`. Rates and percentiles
 * wait for `HERALD_GUARD_MIN_SAMPLES` samples so a handful of events cannot
 * trip it. After an operator resumes, the window starts empty: only the
 * stats recorded after the resume count (each node starts a new segment of
 * its minute when it sees the resume). Windows are whole minutes (see
 * `windowStart`), so a 5 min window judges 5 to 6 minutes of data.
 *
 * It also reports the phase's exit criteria (error-rate increase since the
 * percentage last changed < 0.1 %, delivery p95 < 500 ms, reconnection rate
 * < 2 %) with their values; those are never acted on.
 */
import { Criterion, type NotificationId, type StorageUnavailable } from "@herald/domain"
import { Context, DateTime, Duration, Effect, Layer, Metric, Schedule } from "effect"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { NotificationRepo } from "../storage/NotificationRepo.ts"
import { StatsRepo } from "../storage/StatsRepo.ts"
import { rolloutEnabled, rolloutGuardTrips } from "../telemetry/Metrics.ts"
import { ClusterStats, type ClusterTotals } from "./ClusterStats.ts"
import { percentile, sampleCount } from "./LatencyHistogram.ts"
import { windowStart } from "./MinuteStats.ts"
import { RolloutFlag } from "./RolloutFlag.ts"
import type { StatsRecorder } from "./StatsRecorder.ts"

export interface GuardReport {
  readonly windowSeconds: number
  readonly triggers: ReadonlyArray<Criterion>
  readonly exitCriteria: ReadonlyArray<Criterion>
}

// At most this many accepted ids are checked per second; beyond it, a sample.
const MaxChecksPerSecond = 2_000
const CheckAfterMillis = 1_000

export class RolloutGuard extends Context.Service<RolloutGuard, {
  /** Where the gateway, the worker and the publishers record what the guard watches. */
  readonly window: StatsRecorder
  /** Ids just accepted by a publish; each is checked in the store a second later. */
  accepted(ids: ReadonlyArray<NotificationId>): void
  readonly report: Effect.Effect<GuardReport, StorageUnavailable>
}>()("@herald/server/rollout/RolloutGuard") {
  // With `ClusterStats` merged in: the recorder lives there, and the admin handlers read it too.
  static readonly layer = Layer.effect(RolloutGuard, Effect.gen(function*() {
    const config = yield* HeraldConfig
    const settings = config.guard
    const flag = yield* RolloutFlag
    const repo = yield* NotificationRepo
    const stats = yield* ClusterStats
    const statsRepo = yield* StatsRepo
    const windowSeconds = Duration.toSeconds(settings.window)
    const window = stats.recorder
    let pending: Array<{ readonly id: NotificationId; readonly at: number }> = []
    let baselineErrorRate: number | null = null
    let seen = yield* flag.current
    // Stats from before the last resume are not judged; a node started later learns it from the audit trail.
    let resumedAt = yield* statsRepo.lastResume.pipe(
      Effect.catch((error) => Effect.as(Effect.logWarning("rollout guard could not read the last resume", error.message), null))
    )
    const totals = Effect.suspend(() =>
      stats.totals(Math.max(windowStart(Date.now(), windowSeconds), resumedAt ?? 0))
    )

    const rate = (part: number, whole: number) => whole >= settings.minSamples ? part / whole : null
    const criterion = (
      name: string,
      description: string,
      value: number | null,
      threshold: number,
      unit: string,
      fails: (value: number) => boolean
    ) =>
      new Criterion({
        name,
        description,
        value,
        threshold,
        unit,
        status: value === null ? "no-data" : fails(value) ? "fail" : "pass"
      })

    const evaluate = (totals: ClusterTotals): GuardReport => {
      const errorRate = rate(totals.errors, totals.sessions)
      const inApp = totals.latency.in_app
      const p95 = sampleCount(inApp) >= settings.minSamples ? percentile(inApp, 0.95) : null
      const maxP95 = Duration.toMillis(settings.maxDeliveryP95)
      const triggers = [
        criterion("socket_error_rate", "sockets that ended in an error, of all socket sessions", errorRate, settings.maxSocketErrorRate, "ratio", (v) => v > settings.maxSocketErrorRate),
        criterion("delivery_p95", "in-app delivery latency, 95th percentile", p95, maxP95, "ms", (v) => v > maxP95),
        criterion("duplicate_push", "pushes sent twice for the same delivery", totals.duplicatePushes, 0, "count", (v) => v > 0),
        criterion("data_loss", "accepted notifications missing from the store", totals.lost, 0, "count", (v) => v > 0)
      ]
      const increase = errorRate === null ? null : errorRate - (baselineErrorRate ?? 0)
      const exitP95 = Duration.toMillis(settings.exitDeliveryP95)
      const exitCriteria = [
        criterion("error_rate_increase", "socket error rate now minus when the percentage last changed", increase, settings.exitErrorRateIncrease, "ratio", (v) => v >= settings.exitErrorRateIncrease),
        criterion("delivery_p95", "in-app delivery latency, 95th percentile", p95, exitP95, "ms", (v) => v >= exitP95),
        criterion("reconnect_rate", "socket sessions that resumed after a disconnect, of all sessions", rate(totals.resumed, totals.sessions), settings.exitReconnectRate, "ratio", (v) => v >= settings.exitReconnectRate)
      ]
      return { windowSeconds, triggers, exitCriteria }
    }

    const checkPersisted = Effect.gen(function*() {
      const due = Date.now() - CheckAfterMillis
      const ready = pending.filter((entry) => entry.at <= due)
      if (ready.length === 0) return
      pending = pending.filter((entry) => entry.at > due)
      const sample = ready.length > MaxChecksPerSecond ? ready.slice(-MaxChecksPerSecond) : ready
      const missing = yield* repo.missingIds(sample.map((entry) => entry.id))
      if (missing.length > 0) {
        window.lost(missing.length)
        yield* Effect.logError("rollout guard: accepted notifications are missing from the store", { missing })
      }
    }).pipe(Effect.catch((error) => Effect.logWarning("rollout guard could not check persistence", error.message)))

    const tick = Effect.gen(function*() {
      const state = yield* flag.current
      if (seen.killed && !state.killed) {
        // Resumed: judge the new phase on its own samples, on every node from the same instant.
        resumedAt = DateTime.toEpochMillis(state.updatedAt)
        yield* stats.split
      }
      if (state.percentage !== seen.percentage) {
        const now = yield* totals
        baselineErrorRate = rate(now.errors, now.sessions)
      }
      seen = state
      yield* Metric.update(rolloutEnabled, state.killed ? 0 : 1)
      yield* checkPersisted
      if (!settings.enabled || state.killed) return
      const breached = evaluate(yield* totals).triggers.filter((trigger) => trigger.status === "fail")
      const first = breached[0]
      if (first === undefined) return
      const reason = breached
        .map((trigger) => `${trigger.name} ${trigger.value} ${trigger.unit} > ${trigger.threshold}`)
        .join("; ")
      yield* flag.change({ action: "kill" }, "guard", `rollback trigger breached over ${windowSeconds} s: ${reason}`)
      yield* Metric.update(Metric.withAttributes(rolloutGuardTrips, { trigger: first.name }), 1)
      yield* Effect.logError(`rollout guard tripped the kill switch: ${reason}`)
    }).pipe(Effect.catch((error) => Effect.logWarning("rollout guard could not trip the kill switch", error.message)))

    yield* tick.pipe(Effect.repeat(Schedule.spaced("1 second")), Effect.forkScoped)

    return RolloutGuard.of({
      window,
      accepted: (ids) => {
        const at = Date.now()
        for (const id of ids) pending.push({ id, at })
      },
      report: Effect.map(totals, evaluate).pipe(Effect.withSpan("RolloutGuard.report"))
    })
  })).pipe(Layer.provideMerge(ClusterStats.layer), Layer.provideMerge(StatsRepo.layer))
}
