/**
 * The automatic rollback guard. Every second it evaluates the rollout plan's
 * rollback triggers over a sliding window of what this node saw:
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
 * trip it. After an operator resumes, the window starts empty.
 *
 * It also reports the phase's exit criteria (error-rate increase since the
 * percentage last changed < 0.1 %, delivery p95 < 500 ms, reconnection rate
 * < 2 %) with their values; those are never acted on.
 */
import { Criterion, type NotificationId } from "@herald/domain"
import { Context, Duration, Effect, Layer, Metric, Schedule } from "effect"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { NotificationRepo } from "../storage/NotificationRepo.ts"
import { rolloutEnabled, rolloutGuardTrips } from "../telemetry/Metrics.ts"
import { type GuardWindow, makeGuardWindow, type WindowTotals } from "./GuardWindow.ts"
import { RolloutFlag } from "./RolloutFlag.ts"

export interface GuardReport {
  readonly windowSeconds: number
  readonly triggers: ReadonlyArray<Criterion>
  readonly exitCriteria: ReadonlyArray<Criterion>
}

// At most this many accepted ids are checked per second; beyond it, a sample.
const MaxChecksPerSecond = 2_000
const CheckAfterMillis = 1_000

export class RolloutGuard extends Context.Service<RolloutGuard, {
  /** Where the gateway, the worker and the mailboxes record what the guard watches. */
  readonly window: GuardWindow
  /** Ids just accepted by a publish; each is checked in the store a second later. */
  accepted(ids: ReadonlyArray<NotificationId>): void
  readonly report: Effect.Effect<GuardReport>
}>()("@herald/server/rollout/RolloutGuard") {
  static readonly layer = Layer.effect(RolloutGuard, Effect.gen(function*() {
    const config = yield* HeraldConfig
    const settings = config.guard
    const flag = yield* RolloutFlag
    const repo = yield* NotificationRepo
    const windowSeconds = Duration.toSeconds(settings.window)
    const window = makeGuardWindow(windowSeconds)
    let pending: Array<{ readonly id: NotificationId; readonly at: number }> = []
    let baselineErrorRate: number | null = null
    let seen = yield* flag.current

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

    const evaluate = (totals: WindowTotals): GuardReport => {
      const errorRate = rate(totals.errors, totals.sessions)
      const p95 = totals.latencyCount >= settings.minSamples ? totals.p95Millis : null
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
      if (seen.killed && !state.killed) window.reset() // resumed: judge the new phase on its own samples
      if (state.percentage !== seen.percentage) {
        const totals = window.totals()
        baselineErrorRate = rate(totals.errors, totals.sessions)
      }
      seen = state
      yield* Metric.update(rolloutEnabled, state.killed ? 0 : 1)
      yield* checkPersisted
      if (!settings.enabled || state.killed) return
      const breached = evaluate(window.totals()).triggers.filter((trigger) => trigger.status === "fail")
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
      report: Effect.sync(() => evaluate(window.totals()))
    })
  }))
}
