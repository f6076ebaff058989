/**
 * Operators' replays (`PlanReplay`, `ReplayPage`): re-delivers what a
 * selection holds, one page per call, so a large replay streams through the
 * server at the caller's pace and can stop and resume between any two pages.
 *
 * - Push and email deliveries go back on the normal delivery path (the
 *   worker sends them, with its circuit breakers and retries); a page waits
 *   for its rows to be attempted, so its counts say what happened.
 * - In-app items go to the user's live sockets, on any node, as replayed
 *   frames with their original ids, when the user gets that kind in-app now.
 * - Every row acted on is stamped with the replay's id: a page repeated after
 *   an interruption reports those rows and acts on none of them again.
 */
import {
  InvalidRequest,
  type Notification,
  ReplayPageResult,
  ReplayPlan,
  type ReplayPosition,
  type ReplayRun,
  type ReplaySelection,
  type StorageUnavailable
} from "@herald/domain"
import { Context, DateTime, Duration, Effect, Layer, Metric, Option } from "effect"
import { SecureRandom } from "effect/crypto"
import { Channels } from "../channels/Channels.ts"
import { DeliveryWorker } from "../channels/DeliveryWorker.ts"
import { FanoutBus, type FanoutMessage } from "../fanout/FanoutBus.ts"
import { replayFrameText } from "../fanout/NotificationFrames.ts"
import { RolloutFlag } from "../rollout/RolloutFlag.ts"
import { type PickedDelivery, type PickedNotification, ReplayRepo } from "../storage/ReplayRepo.ts"
import { UserRepo } from "../storage/UserRepo.ts"
import { replayed } from "../telemetry/Metrics.ts"

/** How long a page waits by default for its deliveries to be attempted. */
const DefaultSettle = Duration.seconds(30)
const SettlePoll = Duration.millis(100)

export interface ReplayPageRequest {
  readonly run: ReplayRun
  readonly selection: ReplaySelection
  readonly position: ReplayPosition
  readonly limit: number
  readonly force: boolean
  readonly settleSeconds?: number | undefined
}

export class Replayer extends Context.Service<Replayer, {
  /** Counts what the selection holds and fixes the replay's bounds; changes nothing. */
  plan(selection: ReplaySelection): Effect.Effect<ReplayPlan, InvalidRequest | StorageUnavailable>
  /** Replays one page and says where the next starts. */
  page(request: ReplayPageRequest): Effect.Effect<ReplayPageResult, InvalidRequest | StorageUnavailable>
}>()("@herald/server/replay/Replayer") {
  static readonly layer = Layer.effect(Replayer, Effect.gen(function*() {
    const repo = yield* ReplayRepo
    const users = yield* UserRepo
    const flag = yield* RolloutFlag
    const bus = yield* FanoutBus
    const worker = yield* DeliveryWorker
    const channels = yield* Channels
    // A replay to a channel the server cannot send on would only discard the rows.
    const channelsOn = [
      ...(Option.isSome(channels.push) ? ["push" as const] : []),
      ...(Option.isSome(channels.email) ? ["email" as const] : [])
    ]
    const channelsOff = (["push", "email"] as const).filter((channel) => !channelsOn.includes(channel))

    const count = (channel: string, outcome: string, n: number) =>
      n === 0 ? Effect.void : Metric.update(Metric.withAttributes(replayed, { channel, outcome }), n)

    const checkRange = (selection: ReplaySelection) =>
      selection.since !== undefined && selection.until !== undefined &&
        DateTime.isGreaterThanOrEqualTo(selection.since, selection.until)
        ? Effect.fail(new InvalidRequest({ path: "selection.until", message: "until must be after since" }))
        : Effect.void

    const inAppPhase = (selection: ReplaySelection) =>
      (selection.channel === undefined || selection.channel === "in_app") &&
      (selection.status === undefined || selection.status === "sent")

    const plan = Effect.fn("Replayer.plan")(function*(selection: ReplaySelection) {
      yield* checkRange(selection)
      const bounds = yield* repo.bounds
      const totals = yield* repo.count(selection, bounds)
      const sum = (c: { readonly failed: number; readonly dead: number; readonly sent: number }) => c.failed + c.dead + c.sent
      const start: ReplayPosition = selection.channel === "in_app"
        ? { phase: "in_app", after: null }
        : { phase: "deliveries", after: 0 }
      return new ReplayPlan({
        selection,
        run: { replayId: SecureRandom.uuidV7Unsafe(), upToDelivery: bounds.upToDelivery, upTo: bounds.upTo },
        start,
        inApp: totals.inApp,
        push: totals.push,
        email: totals.email,
        selected: totals.inApp + sum(totals.push) + sum(totals.email),
        alreadySent: totals.push.sent + totals.email.sent,
        channelsOff
      })
    })

    // Until every watched row has been attempted (or the deadline passed): their states then.
    const settle = Effect.fnUntraced(function*(ids: ReadonlyArray<number>, within: Duration.Duration) {
      const deadline = Date.now() + Duration.toMillis(within)
      while (true) {
        const states = yield* repo.deliveryStates(ids)
        const waiting = [...states.values()].some((state) => state === "pending" || state === "sending")
        if (!waiting || Date.now() >= deadline) return states
        yield* Effect.sleep(SettlePoll)
      }
    })

    const deliveriesPage = Effect.fnUntraced(function*(request: ReplayPageRequest, after: number) {
      const picked = yield* repo.requeueDeliveries(request.run, request.selection, after, request.limit, request.force, channelsOn)
      const requeued = picked.filter((row) => row.requeued)
      if (requeued.length > 0) yield* worker.wake
      const watched = picked.filter((row) => row.requeued || row.earlier)
      const within = request.settleSeconds === undefined ? DefaultSettle : Duration.seconds(request.settleSeconds)
      const states = yield* settle(watched.map((row) => row.id), within)
      const outcome = (row: PickedDelivery) => {
        const state = states.get(row.id)
        return state === "sent" ? "delivered" : state === "pending" || state === "sending" ? "queued" : "failed"
      }
      const outcomes = watched.map(outcome)
      const counts = {
        selected: picked.length,
        delivered: outcomes.filter((o) => o === "delivered").length,
        failed: outcomes.filter((o) => o === "failed").length,
        queued: outcomes.filter((o) => o === "queued").length,
        skipped: picked.length - watched.length,
        forced: requeued.filter((row) => row.state === "sent").length
      }
      yield* Effect.annotateCurrentSpan({ "herald.selected": counts.selected, "herald.requeued": requeued.length })
      yield* count("deliveries", "requeued", requeued.length)
      yield* count("deliveries", "forced", counts.forced)
      yield* count("deliveries", "skipped", counts.skipped)
      const last = picked.at(-1)
      const next: ReplayPosition | null = picked.length === request.limit && last !== undefined
        ? { phase: "deliveries", after: last.id }
        : inAppPhase(request.selection)
        ? { phase: "in_app", after: null }
        : null
      return new ReplayPageResult({ counts, next })
    })

    // The user gets it in-app now: in the rollout and with in-app on for its kind.
    const deliverable = Effect.fnUntraced(function*(items: ReadonlyArray<PickedNotification>) {
      const prefs = yield* users.preferencesOf(items.map((item) => item.notification.userId))
      const enabled = new Map<string, boolean>()
      for (const userId of prefs.keys()) enabled.set(userId, yield* flag.isEnabled(userId))
      return items.filter(({ notification }) =>
        enabled.get(notification.userId) === true && prefs.get(notification.userId)?.kinds[notification.kind].inApp === true
      )
    })

    const replayMessage = (notification: Notification, acceptedAt: number): FanoutMessage => ({
      userId: notification.userId,
      cursor: notification.cursor,
      previous: notification.cursor,
      frame: replayFrameText(notification),
      acceptedAt,
      kind: notification.kind,
      trace: null,
      replay: true
    })

    const inAppPage = Effect.fnUntraced(function*(request: ReplayPageRequest, after: string | null) {
      const items = yield* repo.inAppPage(request.run, request.selection, after, request.limit)
      const earlier = items.filter((item) => item.earlier)
      const chosen = yield* deliverable(items.filter((item) => !item.earlier))
      const ids = chosen.map((item) => item.notification.id)
      // Stamped before the frames go out: a repeat of this page then sends nothing twice.
      yield* repo.markInAppReplayed(request.run, ids)
      const now = Date.now()
      yield* bus.publish(chosen.map((item) => replayMessage(item.notification, now)))
      const delivered = chosen.length + earlier.length
      yield* count("in_app", "delivered", chosen.length)
      yield* count("in_app", "skipped", items.length - delivered)
      const last = items.at(-1)
      return new ReplayPageResult({
        counts: { selected: items.length, delivered, failed: 0, queued: 0, skipped: items.length - delivered, forced: 0 },
        next: items.length === request.limit && last !== undefined ? { phase: "in_app", after: last.notification.id } : null
      })
    })

    const page = Effect.fn("Replayer.page")(function*(request: ReplayPageRequest) {
      yield* checkRange(request.selection)
      yield* Effect.annotateCurrentSpan({ "herald.phase": request.position.phase, "herald.limit": request.limit })
      return request.position.phase === "deliveries"
        ? yield* deliveriesPage(request, request.position.after)
        : yield* inAppPage(request, request.position.after)
    })

    return Replayer.of({ plan, page })
  }))
}
