/**
 * Handlers of the admin RPC group (admin key only, at `/rpc/admin`).
 */
import { AdminRpcs, RolloutStatus } from "@herald/domain"
import { DateTime, Effect } from "effect"
import { DigestScheduler } from "../digest/DigestScheduler.ts"
import { DigestRepo } from "../storage/DigestRepo.ts"
import { UserRepo } from "../storage/UserRepo.ts"
import { DeliveryWorker } from "../channels/DeliveryWorker.ts"
import { DeliveryRepo } from "../storage/DeliveryRepo.ts"
import type { DeliveryFilter } from "../storage/DeliveryFilters.ts"
import { RolloutRepo } from "../storage/RolloutRepo.ts"
import { RolloutFlag } from "../rollout/RolloutFlag.ts"
import { RolloutGuard } from "../rollout/RolloutGuard.ts"
import { ClusterStats } from "../rollout/ClusterStats.ts"
import { Replayer } from "../replay/Replayer.ts"
import { hashUserId } from "../telemetry/UserHash.ts"
import { TokenRevocations } from "./TokenRevocations.ts"
import { makeInspectUser } from "./UserInspection.ts"

const DefaultDeadLetterPage = 100
const DefaultHistoryPage = 50
const DefaultSettleLimit = 1_000

const selection = (query: DeliveryFilter & {
  readonly limit?: number
  readonly dryRun?: boolean
}) => ({
  ...query,
  limit: query.limit ?? DefaultSettleLimit,
  dryRun: query.dryRun ?? false
})

export const AdminHandlersLayer = AdminRpcs.AdminRpcs.toLayer(Effect.gen(function*() {
  const deliveries = yield* DeliveryRepo
  const worker = yield* DeliveryWorker
  const digests = yield* DigestRepo
  const scheduler = yield* DigestScheduler
  const users = yield* UserRepo
  const rollouts = yield* RolloutRepo
  const flag = yield* RolloutFlag
  const guard = yield* RolloutGuard
  const stats = yield* ClusterStats
  const replayer = yield* Replayer
  const inspectUser = yield* makeInspectUser
  const revocations = yield* TokenRevocations
  return AdminRpcs.AdminRpcs.of({
    PlanReplay: Effect.fn("Rpc.PlanReplay")(function*({ selection }) {
      return yield* replayer.plan(selection)
    }),
    ReplayPage: Effect.fn("Rpc.ReplayPage")(function*(request) {
      return yield* replayer.page(request)
    }),
    GetRollout: Effect.fn("Rpc.GetRollout")(function*() {
      // Read from the database, not this node's copy, so the answer is the same on every node.
      const state = yield* rollouts.load
      const report = yield* guard.report
      return new RolloutStatus({
        state,
        nodeVersion: (yield* flag.current).version,
        users: yield* rollouts.countUsers(state),
        provider: flag.provider,
        guard: { windowSeconds: report.windowSeconds, triggers: report.triggers, exitCriteria: report.exitCriteria }
      })
    }),
    ChangeRollout: Effect.fn("Rpc.ChangeRollout")(function*(request) {
      const { actor, reason } = request
      switch (request.action) {
        case "set":
          return yield* flag.change({ action: "set", percentage: request.percentage }, actor, reason)
        case "kill":
        case "resume":
          return yield* flag.change({ action: request.action }, actor, reason)
        default:
          return yield* flag.change({ action: request.action, userId: request.userId }, actor, reason)
      }
    }),
    RolloutHistory: Effect.fn("Rpc.RolloutHistory")(function*({ limit }) {
      return { items: yield* rollouts.history(limit ?? DefaultHistoryPage) }
    }),
    PreviewDigest: Effect.fn("Rpc.PreviewDigest")(function*({ userId }) {
      const prefs = yield* users.preferences(userId)
      const { dueAt, items } = yield* digests.preview(userId)
      return new AdminRpcs.DigestPreview({
        userId,
        emailAddress: prefs.emailAddress,
        dueAt: dueAt === null || items.length === 0 ? null : DateTime.fromDateUnsafe(dueAt),
        items
      })
    }),
    SendDigestNow: Effect.fn("Rpc.SendDigestNow")(function*({ userId }) {
      const items = yield* digests.dueNow(userId, yield* DateTime.now)
      if (items > 0) yield* scheduler.wake
      return { items }
    }),
    RetryDeadLetters: Effect.fn("Rpc.RetryDeadLetters")(function*(query) {
      const outcome = yield* deliveries.settleDeadLetters(selection(query), { _tag: "retry" })
      if (outcome.changed > 0) yield* worker.wake
      return outcome
    }),
    DropDeadLetters: Effect.fn("Rpc.DropDeadLetters")(function*(query) {
      return yield* deliveries.settleDeadLetters(selection(query), {
        _tag: "drop",
        reason: query.reason ?? "by an operator"
      })
    }),
    ListDeadLetters: Effect.fn("Rpc.ListDeadLetters")(function*(query) {
      const items = yield* deliveries.deadLetters({ ...query, limit: query.limit ?? DefaultDeadLetterPage })
      return { items }
    }),
    GetStats: Effect.fn("Rpc.GetStats")(function*({ window }) {
      return yield* stats.stats(window)
    }),
    GetLatencySeries: Effect.fn("Rpc.GetLatencySeries")(function*({ minutes }) {
      return { points: yield* stats.series(minutes) }
    }),
    InspectUser: inspectUser,
    RevokeClientTokens: Effect.fn("Rpc.RevokeClientTokens")(function*({ userId }) {
      const revocation = yield* revocations.revoke(userId)
      yield* Effect.logInfo("client tokens revoked", { user: hashUserId(userId) })
      return { userId, revokedAt: DateTime.makeUnsafe(revocation.revokedAt) }
    })
  })
}))
