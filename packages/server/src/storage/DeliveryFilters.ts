/**
 * The filters dead letters and replays share, as SQL conditions on a
 * delivery row `d` and its notification `n`: user, kind, channel, and when
 * the notification was published (`since` inclusive, `until` exclusive).
 * Each is one `AND …` (or nothing when unset), to follow a `WHERE`.
 */
import type { NotificationKind, UserId } from "@herald/domain"
import { DateTime } from "effect"
import type { SqlClient } from "effect/sql"

export interface DeliveryFilter {
  readonly userId?: UserId | undefined
  readonly kind?: NotificationKind | undefined
  readonly channel?: string | undefined
  readonly since?: DateTime.Utc | undefined
  readonly until?: DateTime.Utc | undefined
}

/** The conditions on the notification `n` alone (for in-app items, which have no delivery row). */
export const notificationConditions = (sql: SqlClient.SqlClient, filter: DeliveryFilter) => sql`
  ${filter.userId === undefined ? sql`` : sql`AND n.user_id = ${filter.userId}`}
  ${filter.kind === undefined ? sql`` : sql`AND n.kind = ${filter.kind}`}
  ${filter.since === undefined ? sql`` : sql`AND n.created_at >= ${DateTime.toDateUtc(filter.since)}`}
  ${filter.until === undefined ? sql`` : sql`AND n.created_at < ${DateTime.toDateUtc(filter.until)}`}`

/** The conditions on a delivery `d` joined to its notification `n`. */
export const deliveryConditions = (sql: SqlClient.SqlClient, filter: DeliveryFilter) => sql`
  ${filter.channel === undefined ? sql`` : sql`AND d.channel = ${filter.channel}`}
  ${notificationConditions(sql, { ...filter, userId: undefined })}
  ${filter.userId === undefined ? sql`` : sql`AND d.user_id = ${filter.userId}`}`
