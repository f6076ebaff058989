/**
 * Replays: re-delivering stored notifications after something went wrong (a
 * provider outage, a bad deploy, a kill switch left on). A replay is planned
 * once (`PlanReplay`), which fixes what it may touch, then runs in pages
 * (`ReplayPage`), each page naming where the next one starts, so a caller can
 * stop after any page and resume later from the position it kept.
 *
 * Re-delivery never shows anything twice by accident:
 * - in-app items go to the user's open sockets with their original id, marked
 *   `replayed`, and clients drop an id they have shown (the inbox has them all
 *   already);
 * - failed and dead push and email deliveries go back on the normal delivery
 *   path with fresh attempts (they were never sent);
 * - push and email deliveries already sent are sent again only with `force`,
 *   and are counted as forced;
 * - every row a replay acts on is stamped with the replay's id, so a page
 *   repeated after an interruption acts on nothing twice.
 */
import { Schema } from "effect"
import { NotificationId, UserId } from "./Ids.ts"
import { NotificationKind } from "./Notification.ts"

/** Where a replay re-delivers: the user's sockets (`in_app`), their push devices, their email address. */
export const ReplayChannel = Schema.Literals(["in_app", "push", "email"])
export type ReplayChannel = typeof ReplayChannel.Type

/**
 * Which deliveries a replay selects by state: `failed` (waiting for a retry),
 * `dead` (used all their attempts) or `sent`. In-app items count as `sent`
 * once routed to the user's sockets; they never fail or die.
 */
export const ReplayStatus = Schema.Literals(["failed", "dead", "sent"])
export type ReplayStatus = typeof ReplayStatus.Type

/**
 * What a replay selects; every field narrows it. `since` and `until` bound
 * when the notification was published (`since` inclusive, `until` exclusive).
 *
 * @example
 * ```ts
 * const deadPushes = { channel: "push", status: "dead", since: "2026-11-30T10:00:00Z" }
 * ```
 */
export const ReplaySelection = Schema.Struct({
  userId: Schema.optionalKey(UserId),
  kind: Schema.optionalKey(NotificationKind),
  channel: Schema.optionalKey(ReplayChannel),
  status: Schema.optionalKey(ReplayStatus),
  since: Schema.optionalKey(Schema.DateTimeUtcFromString),
  until: Schema.optionalKey(Schema.DateTimeUtcFromString)
})
export type ReplaySelection = typeof ReplaySelection.Type

/**
 * What a planned replay may touch, fixed when it was planned: delivery rows up
 * to `upToDelivery` and notifications published up to `upTo`, so rows written
 * while it runs (new traffic) are not replayed. `replayId` stamps the rows it acts on.
 */
export const ReplayRun = Schema.Struct({
  replayId: Schema.String.pipe(Schema.check(Schema.isUUID(7))),
  upToDelivery: Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))),
  upTo: Schema.DateTimeUtcFromString
})
export type ReplayRun = typeof ReplayRun.Type

/** Where the next page starts: push and email delivery rows first (by id), then in-app items (by notification id). */
export const ReplayPosition = Schema.Union([
  Schema.Struct({ phase: Schema.Literal("deliveries"), after: Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))) }),
  Schema.Struct({ phase: Schema.Literal("in_app"), after: Schema.NullOr(NotificationId) })
])
export type ReplayPosition = typeof ReplayPosition.Type

/** Push or email deliveries selected, by state. */
export const ReplayStateCounts = Schema.Struct({ failed: Schema.Int, dead: Schema.Int, sent: Schema.Int })
export type ReplayStateCounts = typeof ReplayStateCounts.Type

/** A planned replay: what it would act on (a dry run shows this and stops) and where its first page starts. */
export class ReplayPlan extends Schema.Class<ReplayPlan>("@herald/domain/ReplayPlan")({
  /** The selection as the server read it: what every page of this replay passes back. */
  selection: ReplaySelection,
  run: ReplayRun,
  start: ReplayPosition,
  /** In-app items selected (each goes to open sockets unless the user has in-app off for its kind now). */
  inApp: Schema.Int,
  push: ReplayStateCounts,
  email: ReplayStateCounts,
  /** Everything selected: in-app items plus push and email deliveries in any selected state. */
  selected: Schema.Int,
  /** Push and email deliveries already sent: skipped unless the replay is forced. */
  alreadySent: Schema.Int,
  /**
   * Channels the server has not configured: their deliveries are skipped (left as they are, so
   * dead letters stay dead letters) rather than discarded for want of a provider.
   */
  channelsOff: Schema.Array(Schema.Literals(["push", "email"]))
}) {}

/**
 * What one page did. `delivered` were sent (push, email) or written to the
 * user's sockets (in-app); `failed` were attempted and failed again (they stay
 * on the normal retry path); `queued` are back on the delivery path and not
 * attempted yet when the page answered; `skipped` were left alone (already
 * sent without `force`, their channel not configured on the server, or
 * in-app turned off for the user now); `forced` of
 * the delivered, failed and queued were already sent before.
 */
export const ReplayCounts = Schema.Struct({
  selected: Schema.Int,
  delivered: Schema.Int,
  failed: Schema.Int,
  queued: Schema.Int,
  skipped: Schema.Int,
  forced: Schema.Int
})
export type ReplayCounts = typeof ReplayCounts.Type

export const emptyReplayCounts: ReplayCounts = { selected: 0, delivered: 0, failed: 0, queued: 0, skipped: 0, forced: 0 }

/** Adds up page counts. */
export const addReplayCounts = (a: ReplayCounts, b: ReplayCounts): ReplayCounts => ({
  selected: a.selected + b.selected,
  delivered: a.delivered + b.delivered,
  failed: a.failed + b.failed,
  queued: a.queued + b.queued,
  skipped: a.skipped + b.skipped,
  forced: a.forced + b.forced
})

/** A page's counts and where the next page starts (null: the replay is done). */
export class ReplayPageResult extends Schema.Class<ReplayPageResult>("@herald/domain/ReplayPageResult")({
  counts: ReplayCounts,
  next: Schema.NullOr(ReplayPosition)
}) {}
