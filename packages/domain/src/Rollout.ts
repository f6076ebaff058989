/**
 * The staged rollout of real-time notifications: one flag,
 * `realtime_notifications`, with a sticky percentage, an allow list, a deny
 * list and a kill switch; every change audited; a guard that trips the kill
 * switch when a rollback trigger is breached.
 *
 * A user is in when the kill switch is off, the user is not denied, and the
 * user is allowed or their bucket is below the percentage. The bucket is
 * `bucketOf(userId)`, a stable hash, so raising the percentage keeps every
 * user who was in.
 */
import { Schema } from "effect"
import { isStorableText } from "./StorableText.ts"
import { UserId } from "./Ids.ts"

export const RealtimeFlag = "realtime_notifications"

/** Buckets per 100 %: a percentage has two decimals of precision (0.01 % steps). */
export const BucketCount = 10_000

export const Percentage = Schema.Finite.pipe(
  Schema.check(Schema.isBetween({ minimum: 0, maximum: 100 }, { message: "Expected a percentage from 0 to 100" }))
)

/** Who made a change, as the caller reports it (the CLI sends `user@host`); the guard is `guard`. */
export const Actor = Schema.String.pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(200), isStorableText))

export class RolloutState extends Schema.Class<RolloutState>("@herald/domain/RolloutState")({
  flag: Schema.String,
  percentage: Percentage,
  killed: Schema.Boolean,
  allow: Schema.Array(UserId),
  deny: Schema.Array(UserId),
  /** Increases with every change; nodes reload when they hear of a newer one. */
  version: Schema.Int,
  updatedAt: Schema.DateTimeUtcFromString,
  updatedBy: Schema.String
}) {}

export const RolloutAction = Schema.Literals([
  "set",
  "kill",
  "resume",
  "allow",
  "unallow",
  "deny",
  "undeny"
])
export type RolloutAction = typeof RolloutAction.Type

/** One audited change: who, when, what, and the state before and after. */
export class RolloutChange extends Schema.Class<RolloutChange>("@herald/domain/RolloutChange")({
  id: Schema.Int,
  at: Schema.DateTimeUtcFromString,
  actor: Schema.String,
  action: RolloutAction,
  /** The user an allow/deny change is about. */
  userId: Schema.NullOr(UserId),
  /** Why, when given (the guard always says which trigger and the values). */
  reason: Schema.NullOr(Schema.String),
  from: RolloutState,
  to: RolloutState
}) {}

/** A rollback trigger or an exit criterion with its live value over the guard's window. */
export class Criterion extends Schema.Class<Criterion>("@herald/domain/Criterion")({
  name: Schema.String,
  description: Schema.String,
  /** The measured value; null when the window holds no data for it. */
  value: Schema.NullOr(Schema.Finite),
  threshold: Schema.Finite,
  unit: Schema.String,
  /** `pass`: within the threshold; `fail`: beyond it; `no-data`: nothing measured in the window. */
  status: Schema.Literals(["pass", "fail", "no-data"])
}) {}

export class RolloutStatus extends Schema.Class<RolloutStatus>("@herald/domain/RolloutStatus")({
  state: RolloutState,
  /** The version the answering node applies now (it catches up with `state.version` within a second). */
  nodeVersion: Schema.Int,
  /** Known users (those with any notification or preference) and how many of them are in. */
  users: Schema.Struct({ known: Schema.Int, enabled: Schema.Int }),
  /** The OpenFeature provider evaluating the flag (`herald` unless configured otherwise). */
  provider: Schema.String,
  guard: Schema.Struct({
    windowSeconds: Schema.Finite,
    /** The rollback triggers; a `fail` trips the kill switch. */
    triggers: Schema.Array(Criterion),
    /** The current phase's exit criteria, reported but never acted on. */
    exitCriteria: Schema.Array(Criterion)
  })
}) {}
