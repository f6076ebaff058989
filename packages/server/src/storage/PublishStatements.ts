/**
 * The statements that store a batch of publishes, whatever the number of
 * users in it: one insert that takes every user's next cursors and stores
 * the rows and their delivery rows, and, only after that insert collided on
 * a unique constraint, one lookup of the rows that share an idempotency key
 * or an id with the items. Both are single statements, so a batch is atomic
 * without a transaction.
 */
import { Notification, type NotificationId, type UserId } from "@herald/domain"
import { DateTime, Effect, Schema } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import { notificationColumns } from "./NotificationColumns.ts"
import { arrayColumns, type Columns } from "./PgArrays.ts"
import type { FreshRow, Route } from "./PublishPlan.ts"

/** The fresh rows of one user, routed, with the digest instant when one of them goes to the digest. */
export interface UserRows {
  readonly userId: UserId
  readonly rows: ReadonlyArray<{ readonly notification: FreshRow; readonly route: Route }>
  readonly digestDueAt: Date | null
  readonly traceParent: string | null
  /** The `preferences_version` the rows were routed at: the user's rows are stored only while it holds. */
  readonly preferencesVersion: number
}

export interface Inserted {
  readonly userId: string
  /** The cursor of the user's first row. */
  readonly first: number
  readonly deliveries: number
  /** The user's latest in-app cursor before this insert: what the first in-app frame names as previous. */
  readonly previousInApp: number
}

const decodeRows = Schema.decodeUnknownEffect(Schema.Array(Notification))

/** Rows of the users that share an idempotency key (with that user) or an id with the items. */
export const lookupEarlier = (
  sql: SqlClient.SqlClient,
  keys: ReadonlyArray<readonly [UserId, string]>,
  ids: ReadonlyArray<NotificationId>
): Effect.Effect<ReadonlyArray<Notification>, SqlError.SqlError | Schema.SchemaError> =>
  sql`
    SELECT ${notificationColumns(sql)} FROM notifications n
    WHERE ${
    keys.length > 0
      ? sql`(n.user_id, n.idempotency_key) IN (${sql.csv(keys.map(([userId, key]) => sql`(${userId}, ${key})`))})`
      : sql`false`
  }
      OR ${ids.length > 0 ? sql`n.id IN ${sql.in(ids)}` : sql`false`}`.pipe(Effect.flatMap(decodeRows))

// The columns of `wanted`, one entry per user, in the order the statement names them.
const wantedColumns: Columns<UserRows> = [
  ["text", ({ userId }) => userId],
  ["int4", ({ rows }) => rows.length],
  ["timestamptz", ({ digestDueAt }) => digestDueAt],
  // The ordinal of the user's last in-app row among these (0 when none goes to sockets).
  ["int4", ({ rows }) => rows.findLastIndex(({ route }) => route.inApp) + 1],
  // Read as float8 (`UserRepo`), so bound as one and cast back in the statement.
  ["float8", ({ preferencesVersion }) => preferencesVersion]
]

interface Row {
  readonly userId: UserId
  readonly traceParent: string | null
  readonly notification: FreshRow
  readonly route: Route
  /** The row's place among its user's rows, from 1. */
  readonly ord: number
}

// The columns of `v`, one entry per row, in the order the statement names them.
const rowColumns: Columns<Row> = [
  ["text", ({ userId }) => userId],
  ["uuid", ({ notification }) => notification.id],
  ["int4", ({ ord }) => ord],
  ["text", ({ notification }) => notification.kind],
  ["text", ({ notification }) => notification.title],
  ["text", ({ notification }) => notification.body],
  ["text", ({ notification }) => notification.link],
  ["text", ({ notification }) => notification.actor],
  ["text", ({ notification }) => notification.idempotencyKey],
  ["bool", ({ route }) => route.inApp],
  ["bool", ({ route }) => route.push],
  ["text", ({ route }) => route.email],
  ["timestamptz", ({ notification }) => DateTime.toDateUtc(notification.createdAt)],
  ["text", ({ traceParent }) => traceParent]
]

/**
 * Stores every user's fresh rows. Each user's counter row is taken once (`ON CONFLICT DO
 * UPDATE` may not touch a row twice, so a user appears once per statement), which also
 * orders this insert after any other one of the same user, on any node, and moves the
 * user's latest in-app cursor on.
 * A user whose preferences changed since the version their rows were routed at gets no counter
 * row back, so none of their rows is stored and they are missing from the answer: the caller
 * routes them again by the new preferences.
 * The push and email delivery parts are left out when nothing goes out of app.
 */
export const insertRows = (
  sql: SqlClient.SqlClient,
  users: ReadonlyArray<UserRows>
): Effect.Effect<ReadonlyArray<Inserted>, SqlError.SqlError> =>
  Effect.gen(function*() {
    const flat = users.flatMap(({ rows, traceParent, userId }): Array<Row> =>
      rows.map(({ notification, route }, index) => ({ userId, traceParent, notification, route, ord: index + 1 }))
    )
    // One array per column (`PgArrays`), so the statement's text is the same for any batch.
    const list = (columns: ReadonlyArray<unknown>) => sql.csv(columns.map((column) => sql`${column}`))
    const wanted = list(yield* arrayColumns(users, wantedColumns))
    const values = list(yield* arrayColumns(flat, rowColumns))
    const outOfApp = users.some(({ rows }) => rows.some(({ route }) => route.push || route.email === "immediate"))
    const deliveryRows = outOfApp
      ? sql`, pushes AS (
          INSERT INTO deliveries (notification_id, user_id, channel, target)
          SELECT i.id, i.user_id, 'push', d.token FROM inserted i JOIN devices d ON d.user_id = i.user_id WHERE i.push
          RETURNING user_id
        ), emails AS (
          INSERT INTO deliveries (notification_id, user_id, channel, target)
          SELECT i.id, i.user_id, 'email', u.email_address FROM inserted i JOIN herald_users u ON u.user_id = i.user_id
          WHERE i.email_route = 'immediate' AND u.email_address IS NOT NULL
          RETURNING user_id
        ), delivered AS (
          SELECT user_id, count(*) AS n FROM (SELECT user_id FROM pushes UNION ALL SELECT user_id FROM emails) d GROUP BY user_id
        )`
      : sql``
    return yield* sql<Inserted>`
      WITH wanted (user_id, n, due_at, in_app_ord, version) AS (SELECT * FROM unnest(${wanted})),
      counter AS (
        INSERT INTO herald_users (user_id, last_cursor, next_digest_at, last_in_app_cursor, preferences_version)
        SELECT user_id, n::bigint, due_at, in_app_ord::bigint, version::bigint FROM wanted
        ON CONFLICT (user_id) DO UPDATE SET
          last_cursor = herald_users.last_cursor + EXCLUDED.last_cursor,
          next_digest_at = COALESCE(herald_users.next_digest_at, EXCLUDED.next_digest_at),
          last_in_app_cursor = CASE WHEN EXCLUDED.last_in_app_cursor = 0 THEN herald_users.last_in_app_cursor
            ELSE herald_users.last_cursor + EXCLUDED.last_in_app_cursor END,
          -- RETURNING sees only the new row, so the old in-app cursor is kept where it can be read back.
          prior_in_app_cursor = herald_users.last_in_app_cursor
        WHERE herald_users.preferences_version = EXCLUDED.preferences_version
        RETURNING user_id, last_cursor, prior_in_app_cursor
      ), inserted AS (
        INSERT INTO notifications
          (id, user_id, cursor, kind, title, body, link, actor, idempotency_key, in_app, push, email_route, digest_state,
           created_at, trace_parent)
        SELECT v.id, v.user_id, c.last_cursor - w.n::bigint + v.ord::bigint, v.kind, v.title, v.body, v.link,
               v.actor, v.key, v.in_app, v.push, v.email_route,
               CASE WHEN v.email_route = 'digest' THEN 'pending' END, v.created_at, v.trace_parent
        FROM unnest(${values})
          AS v (user_id, id, ord, kind, title, body, link, actor, key, in_app, push, email_route, created_at, trace_parent)
        JOIN counter c ON c.user_id = v.user_id
        JOIN wanted w ON w.user_id = v.user_id
        RETURNING id, user_id, push, email_route
      )${deliveryRows}
      SELECT c.user_id AS "userId", (c.last_cursor - w.n::bigint + 1)::float8 AS first,
        ${outOfApp ? sql`COALESCE(d.n, 0)` : sql`0`}::float8 AS deliveries,
        c.prior_in_app_cursor::float8 AS "previousInApp"
      FROM counter c JOIN wanted w ON w.user_id = c.user_id
      ${outOfApp ? sql`LEFT JOIN delivered d ON d.user_id = c.user_id` : sql``}`
  })
