/**
 * The stored half of `InspectUser`: the user row (cursors, digest times,
 * what waits for the digest) and the newest notifications, each with its
 * push and email delivery rows and its digest, in two statements whatever
 * the number of notifications. Preferences and devices come from their own
 * repositories.
 *
 * The notifications statement builds each report in the encoded shape of
 * `NotificationReport` (deliveries aggregated per notification with a lateral
 * join on `deliveries_once`), so decoding it is the only mapping.
 */
import { Cursor, DigestStatus, NotificationReport, StorageUnavailable, type UserId } from "@herald/domain"
import { Context, type DateTime, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"

/** What the database holds of a user, beside their preferences and devices. */
export interface UserActivity {
  /** False when there is no user row: nothing was published to or set for them. */
  readonly known: boolean
  readonly since: DateTime.Utc | null
  readonly cursors: { readonly last: Cursor; readonly acked: Cursor }
  readonly digest: DigestStatus
  /** The newest first. */
  readonly notifications: ReadonlyArray<NotificationReport>
}

const UserRow = Schema.Struct({
  since: Schema.DateTimeUtcFromString,
  last: Cursor,
  acked: Cursor,
  nextAt: Schema.NullOr(Schema.DateTimeUtcFromString),
  lastAt: Schema.NullOr(Schema.DateTimeUtcFromString),
  pending: Schema.Int
})

export class UserReportRepo extends Context.Service<UserReportRepo, {
  /** The user row and their newest `limit` notifications with what became of each. */
  activity(userId: UserId, limit: number): Effect.Effect<UserActivity, StorageUnavailable>
}>()("@herald/server/storage/UserReportRepo") {
  static readonly layer = Layer.effect(UserReportRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeUser = Schema.decodeUnknownEffect(Schema.Array(UserRow))
    const decodeReports = Schema.decodeUnknownEffect(Schema.Array(NotificationReport))

    // From the notification being stored to the provider accepting it; null until sent.
    const latency = (sentAt: string) =>
      sql`round(extract(epoch FROM (${sql.literal(sentAt)} - n.created_at)) * 1000)::int`
    const send = (table: string) => {
      const column = (name: string) => sql.literal(`${table}.${name}`)
      return sql`'state', ${column("state")}, 'attempts', ${column("attempts")}, 'lastError', ${column("last_error")},
        'sentAt', ${column("sent_at")}, 'latencyMs', ${latency(`${table}.sent_at`)}`
    }

    const user = (userId: UserId) =>
      sql`
        SELECT to_json(u.created_at)#>>'{}' AS since, u.last_cursor::float8 AS last, u.acked_cursor::float8 AS acked,
          to_json(u.next_digest_at)#>>'{}' AS "nextAt", to_json(u.last_digest_at)#>>'{}' AS "lastAt",
          (SELECT count(*) FROM notifications n WHERE n.user_id = u.user_id AND n.digest_state = 'pending')::float8 AS pending
        FROM herald_users u WHERE u.user_id = ${userId}`.pipe(Effect.flatMap(decodeUser))

    const notifications = (userId: UserId, limit: number) =>
      sql`
        SELECT
          json_build_object(
            'id', n.id, 'userId', n.user_id, 'cursor', n.cursor, 'kind', n.kind, 'title', n.title, 'body', n.body,
            'link', n.link, 'actor', n.actor, 'idempotencyKey', n.idempotency_key, 'createdAt', n.created_at,
            'readAt', n.read_at
          ) AS notification,
          json_build_object('inApp', n.in_app, 'push', n.push, 'email', n.email_route) AS route,
          (n.in_app AND n.cursor <= u.acked_cursor) AS acked,
          COALESCE(d.items, '[]'::json) AS deliveries,
          CASE WHEN n.digest_state IS NULL THEN NULL ELSE json_build_object(
            'state', n.digest_state, 'digestId', n.digest_id,
            'email', CASE WHEN g.id IS NULL THEN NULL ELSE json_build_object(${send("g")}) END
          ) END AS digest
        FROM (
          SELECT * FROM notifications WHERE user_id = ${userId} ORDER BY cursor DESC LIMIT ${limit}
        ) n
        JOIN herald_users u ON u.user_id = n.user_id
        LEFT JOIN digests g ON g.id = n.digest_id
        LEFT JOIN LATERAL (
          SELECT json_agg(
            json_build_object('deliveryId', d.id, 'channel', d.channel, 'target', d.target, ${send("d")})
            ORDER BY d.channel DESC, d.id
          ) AS items
          FROM deliveries d WHERE d.notification_id = n.id
        ) d ON true
        ORDER BY n.cursor DESC`.pipe(Effect.flatMap(decodeReports))

    const activity = Effect.fn("UserReportRepo.activity")(function*(userId: UserId, limit: number) {
      const [rows, reports] = yield* Effect.all([user(userId), notifications(userId, limit)], { concurrency: 2 }).pipe(
        Effect.mapError(unavailable)
      )
      const [row] = rows
      return {
        known: row !== undefined,
        since: row?.since ?? null,
        cursors: { last: row?.last ?? Cursor.make(0), acked: row?.acked ?? Cursor.make(0) },
        digest: new DigestStatus({ nextAt: row?.nextAt ?? null, lastAt: row?.lastAt ?? null, pending: row?.pending ?? 0 }),
        notifications: reports
      }
    })

    return UserReportRepo.of({ activity })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `a stored user report did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })
