/**
 * The `InspectUser` admin handler: one user's report put together from the
 * repositories, the rollout flag as this node evaluates it for them, and
 * their sockets on every node (`Presence`). The parts are independent, so
 * they are read concurrently; the slowest is the cluster's answer (at most
 * `Presence.AnswerWindow`).
 */
import { AdminRpcs, type UserId, UserReport, UserRollout } from "@herald/domain"
import { Effect } from "effect"
import { bucketOf, lowestPercentageFor } from "../rollout/Bucket.ts"
import { RolloutFlag } from "../rollout/RolloutFlag.ts"
import { DeviceRepo } from "../storage/DeviceRepo.ts"
import { UserReportRepo } from "../storage/UserReportRepo.ts"
import { UserRepo } from "../storage/UserRepo.ts"
import { Presence } from "./Presence.ts"

/** The handler, with the services it reads from. */
export const makeInspectUser = Effect.gen(function*() {
  const users = yield* UserRepo
  const devices = yield* DeviceRepo
  const reports = yield* UserReportRepo
  const flag = yield* RolloutFlag
  const presence = yield* Presence

  // The same evaluation a publish makes (`RolloutFlag`), with the rule that decided it.
  const rolloutOf = Effect.fnUntraced(function*(userId: UserId) {
    const state = yield* flag.current
    const { enabled, reason } = yield* flag.evaluate(userId)
    const bucket = bucketOf(userId)
    return new UserRollout({
      enabled,
      reason,
      bucket,
      inFrom: lowestPercentageFor(bucket),
      percentage: state.percentage,
      killed: state.killed,
      version: state.version
    })
  })

  return Effect.fn("Rpc.InspectUser")(function*({ limit, userId }: { readonly userId: UserId; readonly limit?: number }) {
    const [preferences, registered, activity, rollout, connections] = yield* Effect.all([
      users.preferences(userId),
      devices.list(userId),
      reports.activity(userId, limit ?? AdminRpcs.DefaultInspectLimit),
      rolloutOf(userId),
      presence.connectionsOf(userId)
    ], { concurrency: "unbounded" })
    return new UserReport({
      userId,
      known: activity.known,
      since: activity.since,
      cursors: activity.cursors,
      preferences,
      digest: activity.digest,
      devices: registered,
      rollout,
      connections,
      notifications: activity.notifications
    })
  })
})
