/**
 * The admin RPC group: what maintainers (the CLI, `/admin`) call with the
 * admin key. Served at `/rpc/admin`; an app key is refused there (401).
 */
import { Schema } from "effect"
import { Rpc, RpcGroup } from "effect/rpc"
import { InvalidRequest, StorageUnavailable } from "../Errors.ts"
import { isStorableText } from "../StorableText.ts"
import { NotificationId, UserId } from "../Ids.ts"
import { Notification, NotificationKind } from "../Notification.ts"
import { ReplayPageResult, ReplayPlan, ReplayPosition, ReplayRun, ReplaySelection } from "../Replay.ts"
import { Actor, Percentage, RolloutChange, RolloutState, RolloutStatus } from "../Rollout.ts"
import { DeliveryStats, LatencyPoint, SeriesMinutes, StatsWindow } from "../Stats.ts"
import { InspectUser } from "./UserInspection.ts"

export { DefaultInspectLimit, InspectUser, MaxInspectLimit } from "./UserInspection.ts"

export const DeliveryChannel = Schema.Literals(["push", "email"])

/** A delivery that used all its attempts, with what went wrong last. */
export class DeadLetter extends Schema.Class<DeadLetter>("@herald/domain/DeadLetter")({
  deliveryId: Schema.Int,
  notificationId: NotificationId,
  userId: UserId,
  kind: NotificationKind,
  title: Schema.String,
  channel: DeliveryChannel,
  /** The device token or email address it was for. */
  target: Schema.String,
  attempts: Schema.Int,
  lastError: Schema.NullOr(Schema.String),
  createdAt: Schema.DateTimeUtcFromString,
  deadAt: Schema.DateTimeUtcFromString
}) {}

/**
 * The filters dead letters share with replays: user, kind, channel, and when
 * the notification was published (`since` inclusive, `until` exclusive).
 */
const deadLetterFilters = {
  userId: Schema.optionalKey(UserId),
  kind: Schema.optionalKey(NotificationKind),
  channel: Schema.optionalKey(DeliveryChannel),
  since: Schema.optionalKey(Schema.DateTimeUtcFromString),
  until: Schema.optionalKey(Schema.DateTimeUtcFromString)
}

/** Dead letters, newest first, narrowed by the filters. */
export const ListDeadLetters = Rpc.make("ListDeadLetters", {
  payload: {
    ...deadLetterFilters,
    limit: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 500 }))))
  },
  success: Schema.Struct({ items: Schema.Array(DeadLetter) }),
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})

/** Which dead letters a retry or drop acts on: the newest first, up to `limit` (default 1,000). */
const deadLetterSelection = {
  ...deadLetterFilters,
  limit: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 100_000 })))),
  /** Count what would be acted on, change nothing. */
  dryRun: Schema.optionalKey(Schema.Boolean)
}

/** How many dead letters matched, and how many were changed (0 on a dry run). */
export const DeadLetterOutcome = Schema.Struct({ selected: Schema.Int, changed: Schema.Int })

/**
 * Puts dead letters back on the normal delivery path with a fresh attempt budget. Only
 * dead rows are touched, and a dead row was never sent, so nothing goes out twice.
 */
export const RetryDeadLetters = Rpc.make("RetryDeadLetters", {
  payload: deadLetterSelection,
  success: DeadLetterOutcome,
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})

/** Gives dead letters up for good (state `discarded`, the reason kept as their last error). */
export const DropDeadLetters = Rpc.make("DropDeadLetters", {
  payload: { ...deadLetterSelection, reason: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isMaxLength(500), isStorableText))) },
  success: DeadLetterOutcome,
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})

/**
 * Plans a replay of the selection: counts what it would act on and fixes its
 * bounds (rows written later are not replayed). Changes nothing: a dry run is
 * a plan alone.
 */
export const PlanReplay = Rpc.make("PlanReplay", {
  payload: { selection: ReplaySelection },
  success: ReplayPlan,
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})

/**
 * Replays one page of a planned replay from `position`, up to `limit` items,
 * and answers once its push and email deliveries were attempted (or
 * `settleSeconds` passed: the rest stay queued on the normal path). Already
 * sent push and email deliveries are sent again only with `force`. Repeating
 * a page (after an interruption) acts on nothing twice.
 */
export const ReplayPage = Rpc.make("ReplayPage", {
  payload: {
    run: ReplayRun,
    selection: ReplaySelection,
    position: ReplayPosition,
    limit: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))),
    force: Schema.Boolean,
    settleSeconds: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 120 }))))
  },
  success: ReplayPageResult,
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})

/** What the user's digest would contain if it were sent now. */
export class DigestPreview extends Schema.Class<DigestPreview>("@herald/domain/DigestPreview")({
  userId: UserId,
  emailAddress: Schema.NullOr(Schema.String),
  /** When it is due on the user's schedule; null when nothing is waiting. */
  dueAt: Schema.NullOr(Schema.DateTimeUtcFromString),
  items: Schema.Array(Notification)
}) {}

export const PreviewDigest = Rpc.make("PreviewDigest", {
  payload: { userId: UserId },
  success: DigestPreview,
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})

/** Makes the user's digest due now; `items` is how many it will contain (0: nothing is sent). */
export const SendDigestNow = Rpc.make("SendDigestNow", {
  payload: { userId: UserId },
  success: Schema.Struct({ items: Schema.Int }),
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})

/** The rollout flag, users in, and the guard's triggers and exit criteria with live values. */
export const GetRollout = Rpc.make("GetRollout", {
  success: RolloutStatus,
  error: StorageUnavailable
})

const change = { actor: Actor, reason: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isMaxLength(500), isStorableText))) }

/**
 * Changes the rollout flag and audits it; answers the state after. `set` takes a
 * percentage; `allow`/`deny` (and `unallow`/`undeny`) take a user. Every node
 * applies it within a second.
 */
export const ChangeRollout = Rpc.make("ChangeRollout", {
  payload: Schema.Union([
    Schema.Struct({ action: Schema.Literal("set"), percentage: Percentage, ...change }),
    Schema.Struct({ action: Schema.Literals(["kill", "resume"]), ...change }),
    Schema.Struct({ action: Schema.Literals(["allow", "unallow", "deny", "undeny"]), userId: UserId, ...change })
  ]),
  success: RolloutState,
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})

/** Audited changes, newest first. */
export const RolloutHistory = Rpc.make("RolloutHistory", {
  payload: {
    limit: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))))
  },
  success: Schema.Struct({ items: Schema.Array(RolloutChange) }),
  error: StorageUnavailable
})

/** Cluster-wide delivery stats over the window (summed over every node; the same answer from any node). */
export const GetStats = Rpc.make("GetStats", {
  payload: { window: StatsWindow },
  success: DeliveryStats,
  error: StorageUnavailable
})

/**
 * The cluster's delivery latency per minute over the last `minutes` (1-180), for a chart:
 * one point per minute, oldest first, every minute present (empty ones with count 0); the
 * last point is the current, still growing minute.
 */
export const GetLatencySeries = Rpc.make("GetLatencySeries", {
  payload: { minutes: SeriesMinutes },
  success: Schema.Struct({ points: Schema.Array(LatencyPoint) }),
  error: StorageUnavailable
})

/**
 * Revokes every client token issued to the user until now: their sockets on every node close
 * with 4401 within a second, and those tokens are refused from then on. Tokens issued in the
 * same second as the revocation are refused too (token times have one-second precision).
 */
export const RevokeClientTokens = Rpc.make("RevokeClientTokens", {
  payload: { userId: UserId },
  success: Schema.Struct({ userId: UserId, revokedAt: Schema.DateTimeUtcFromString }),
  error: StorageUnavailable
})

export class AdminRpcs extends RpcGroup.make(
  ListDeadLetters,
  RetryDeadLetters,
  DropDeadLetters,
  PlanReplay,
  ReplayPage,
  PreviewDigest,
  SendDigestNow,
  GetRollout,
  ChangeRollout,
  RolloutHistory,
  GetStats,
  GetLatencySeries,
  InspectUser,
  RevokeClientTokens
) {}
