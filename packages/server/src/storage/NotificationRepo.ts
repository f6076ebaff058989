/**
 * Notifications in PostgreSQL: the reads the inbox and socket catch-up need,
 * read marks and acks. Publishes are `NotificationWriter`'s.
 */
import {
  Cursor,
  Notification,
  NotificationId,
  StorageUnavailable,
  type UserId
} from "@herald/domain"
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { batchedByUser } from "./ByUserBatch.ts"

export interface InboxQuery {
  readonly userId: UserId
  readonly unreadOnly: boolean
  readonly before: Cursor | undefined
  readonly limit: number
}

export class NotificationRepo extends Context.Service<NotificationRepo, {
  /** Up to `limit` in-app notifications with a cursor above `after`, oldest first. */
  pageAfter(userId: UserId, after: Cursor, limit: number): Effect.Effect<ReadonlyArray<Notification>, StorageUnavailable>
  latestCursor(userId: UserId): Effect.Effect<Cursor, StorageUnavailable>
  /** Which of `ids` are not stored. */
  missingIds(ids: ReadonlyArray<NotificationId>): Effect.Effect<ReadonlyArray<NotificationId>, StorageUnavailable>
  /** Newest first. */
  inbox(query: InboxQuery): Effect.Effect<ReadonlyArray<Notification>, StorageUnavailable>
  unreadCount(userId: UserId): Effect.Effect<number, StorageUnavailable>
  markRead(userId: UserId, ids: ReadonlyArray<NotificationId>): Effect.Effect<number, StorageUnavailable>
  markAllRead(userId: UserId): Effect.Effect<number, StorageUnavailable>
}>()("@herald/server/storage/NotificationRepo") {
  static readonly layer = Layer.effect(NotificationRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeRows = Schema.decodeUnknownEffect(Schema.Array(Notification))

    const columns = sql`
      id::text AS id, user_id AS "userId", cursor::float8 AS cursor, kind, title, body, link, actor,
      idempotency_key AS "idempotencyKey",
      to_json(created_at)#>>'{}' AS "createdAt", to_json(read_at)#>>'{}' AS "readAt"`

    const selectNotifications = (rows: Effect.Effect<ReadonlyArray<unknown>, SqlError.SqlError>) =>
      Effect.flatMap(rows, decodeRows).pipe(Effect.mapError(unavailable))

    const missingIds = Effect.fn("NotificationRepo.missingIds")(function*(ids: ReadonlyArray<NotificationId>) {
      if (ids.length === 0) return []
      const found = yield* sql<{ readonly id: string }>`
        SELECT id::text AS id FROM notifications WHERE id IN ${sql.in(ids)}`.pipe(Effect.mapError(unavailable))
      const stored = new Set(found.map((row) => row.id))
      return ids.filter((id) => !stored.has(id))
    })

    // A cursor per user, from a statement answering `userId` and `last` for the users it finds.
    const cursorsOf = (
      span: string,
      userIds: ReadonlyArray<UserId>,
      rows: Effect.Effect<ReadonlyArray<{ readonly userId: string; readonly last: number }>, SqlError.SqlError>
    ) =>
      rows.pipe(
        Effect.map((found) => new Map(found.map((row) => [row.userId, Cursor.make(row.last)]))),
        Effect.mapError(unavailable),
        Effect.withSpan(span, { attributes: { "herald.users": userIds.length } })
      )

    const pageAfter = Effect.fn("NotificationRepo.pageAfter")(function*(userId: UserId, after: Cursor, limit: number) {
      return yield* selectNotifications(sql`
        SELECT ${columns} FROM notifications
        WHERE user_id = ${userId} AND cursor > ${after} AND in_app
        ORDER BY cursor ASC LIMIT ${limit}`)
    })

    const latestCursor = batchedByUser(
      (userIds) =>
        cursorsOf("NotificationRepo.latestCursors", userIds, sql`
          SELECT user_id AS "userId", last_cursor::float8 AS last FROM herald_users WHERE user_id IN ${sql.in(userIds)}`),
      () => Cursor.make(0)
    )

    const inbox = Effect.fn("NotificationRepo.inbox")(function*(query: InboxQuery) {
      return yield* selectNotifications(sql`
        SELECT ${columns} FROM notifications
        WHERE user_id = ${query.userId}
          ${query.unreadOnly ? sql`AND read_at IS NULL` : sql``}
          ${query.before === undefined ? sql`` : sql`AND cursor < ${query.before}`}
        ORDER BY cursor DESC LIMIT ${query.limit}`)
    })

    const count = (rows: Effect.Effect<ReadonlyArray<{ readonly n: number }>, SqlError.SqlError>) =>
      rows.pipe(Effect.map((rows) => rows[0]?.n ?? 0), Effect.mapError(unavailable))

    return NotificationRepo.of({
      pageAfter,
      latestCursor,
      missingIds,
      inbox,
      unreadCount: Effect.fn("NotificationRepo.unreadCount")((userId: UserId) =>
        count(sql`SELECT count(*)::float8 AS n FROM notifications WHERE user_id = ${userId} AND read_at IS NULL`)
      ),
      markRead: Effect.fn("NotificationRepo.markRead")((userId: UserId, ids: ReadonlyArray<NotificationId>) =>
        count(sql`
          WITH updated AS (
            UPDATE notifications SET read_at = now()
            WHERE user_id = ${userId} AND read_at IS NULL AND id::text IN ${sql.in(ids)}
            RETURNING 1
          ) SELECT count(*)::float8 AS n FROM updated`)
      ),
      markAllRead: Effect.fn("NotificationRepo.markAllRead")((userId: UserId) =>
        count(sql`
          WITH updated AS (
            UPDATE notifications SET read_at = now() WHERE user_id = ${userId} AND read_at IS NULL RETURNING 1
          ) SELECT count(*)::float8 AS n FROM updated`)
      )
    })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `stored data did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })
