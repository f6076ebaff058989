/**
 * Notifications in PostgreSQL: idempotent batched inserts that assign each
 * user's cursors, and the reads the inbox and socket catch-up need.
 */
import {
  Cursor,
  Notification,
  NotificationId,
  type EmailRoute,
  type NotificationKind,
  type NotifyItem,
  NotifyResult,
  StorageUnavailable,
  type UserId
} from "@herald/domain"
import { Array as Arr, Context, DateTime, Effect, Layer, Result, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"

export interface Published {
  /** One result per item, in the order given. */
  readonly results: ReadonlyArray<NotifyResult>
  /** The notifications this call stored (not the deduplicated ones), in cursor order. */
  readonly stored: ReadonlyArray<Notification>
  /**
   * Items whose id was already stored: an earlier attempt of this same publish stored
   * them and then lost its reply (its node died). They count as this call's own, and
   * their frames may never have gone out, so the caller sends them again.
   */
  readonly resent: ReadonlyArray<Notification>
  /** Stored rows that items duplicated by idempotency key (each once), answered as deduplicated. */
  readonly duplicates: ReadonlyArray<Notification>
  /** How many push and email delivery rows were written with them. */
  readonly deliveries: number
}

/** An item to publish, with the id its gateway gave it so that a resent attempt is recognised. */
export interface PublishItem {
  readonly id: NotificationId
  readonly item: NotifyItem
}

/** Where a notification of a kind goes, decided from the user's preferences and the channels configured. */
export interface Route {
  readonly inApp: boolean
  readonly push: boolean
  readonly email: EmailRoute
}

export interface InboxQuery {
  readonly userId: UserId
  readonly unreadOnly: boolean
  readonly before: Cursor | undefined
  readonly limit: number
}

export class NotificationRepo extends Context.Service<NotificationRepo, {
  /**
   * Stores the items for one user atomically; items whose idempotency key was seen come back deduplicated.
   * `route` says where each kind goes: the user's sockets (live and on resume), a push
   * delivery row per registered device, an immediate email delivery row.
   */
  publish(
    userId: UserId,
    items: ReadonlyArray<PublishItem>,
    route: (kind: NotificationKind) => Route,
    /** When the user's next digest is due, asked only when an item goes to the digest (kept if one is already due). */
    digestDueAt: () => Date,
    /** The publish's trace, kept with the rows so later sends continue it. */
    traceParent: string | null
  ): Effect.Effect<Published, StorageUnavailable>
  /** Up to `limit` in-app notifications with a cursor above `after`, oldest first. */
  pageAfter(userId: UserId, after: Cursor, limit: number): Effect.Effect<ReadonlyArray<Notification>, StorageUnavailable>
  latestCursor(userId: UserId): Effect.Effect<Cursor, StorageUnavailable>
  /** Which of `ids` are not stored. */
  missingIds(ids: ReadonlyArray<NotificationId>): Effect.Effect<ReadonlyArray<NotificationId>, StorageUnavailable>
  /** The cursor of the user's newest in-app notification, 0 when there is none. */
  latestInAppCursor(userId: UserId): Effect.Effect<Cursor, StorageUnavailable>
  /** Newest first. */
  inbox(query: InboxQuery): Effect.Effect<ReadonlyArray<Notification>, StorageUnavailable>
  unreadCount(userId: UserId): Effect.Effect<number, StorageUnavailable>
  markRead(userId: UserId, ids: ReadonlyArray<NotificationId>): Effect.Effect<number, StorageUnavailable>
  markAllRead(userId: UserId): Effect.Effect<number, StorageUnavailable>
  recordAck(userId: UserId, cursor: Cursor): Effect.Effect<void, StorageUnavailable>
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

    // One statement takes the user's next cursors and inserts the rows, so a publish is atomic
    // without a transaction and costs one round trip (plus one lookup when items carry keys).
    const insertFresh = (
      userId: UserId,
      rows: Arr.NonEmptyReadonlyArray<Notification>,
      route: (kind: NotificationKind) => Route,
      digestDueAt: () => Date,
      traceParent: string | null
    ) => {
      const routed = rows.map((n) => ({ n, to: route(n.kind) }))
      const toDigest = routed.some(({ to }) => to.email === "digest")
      const dueAt = toDigest ? digestDueAt() : null
      // The delivery inserts are left out when nothing goes out of app, the common in-app-only case.
      const outOfApp = routed.some(({ to }) => to.push || to.email === "immediate")
      const deliveryRows = outOfApp
        ? sql`, pushes AS (
          INSERT INTO deliveries (notification_id, user_id, channel, target)
          SELECT i.id, ${userId}, 'push', d.token FROM inserted i JOIN devices d ON d.user_id = ${userId} WHERE i.push
          RETURNING 1
        ), emails AS (
          INSERT INTO deliveries (notification_id, user_id, channel, target)
          SELECT i.id, ${userId}, 'email', u.email_address FROM inserted i JOIN herald_users u ON u.user_id = ${userId}
          WHERE i.email_route = 'immediate' AND u.email_address IS NOT NULL
          RETURNING 1
        )`
        : sql``
      const deliveryCount = outOfApp ? sql`((SELECT count(*) FROM pushes) + (SELECT count(*) FROM emails))` : sql`0`
      const values = sql.csv(routed.map(({ n, to }, index) =>
        sql`(${n.id}, ${index + 1}, ${n.kind}, ${n.title}, ${n.body}, ${n.link}, ${n.actor}, ${n.idempotencyKey}, ${to.inApp}, ${to.push}, ${to.email})`
      ))
      return sql<{ readonly first: number; readonly deliveries: number }>`
        WITH counter AS (
          INSERT INTO herald_users (user_id, last_cursor, next_digest_at) VALUES (${userId}, ${rows.length}, ${dueAt})
          ON CONFLICT (user_id) DO UPDATE SET last_cursor = herald_users.last_cursor + ${rows.length}
            ${toDigest ? sql`, next_digest_at = COALESCE(herald_users.next_digest_at, ${dueAt})` : sql``}
          RETURNING last_cursor
        ), inserted AS (
          INSERT INTO notifications
            (id, user_id, cursor, kind, title, body, link, actor, idempotency_key, in_app, push, email_route, digest_state, created_at,
             trace_parent)
          SELECT v.id::uuid, ${userId}, counter.last_cursor - ${rows.length} + v.ord::int, v.kind, v.title,
                 v.body, v.link, v.actor, v.key, v.in_app::boolean, v.push::boolean, v.email_route,
                 CASE WHEN v.email_route = 'digest' THEN 'pending' END, ${DateTime.toDateUtc(rows[0].createdAt)}, ${traceParent}
          FROM counter, (VALUES ${values}) AS v (id, ord, kind, title, body, link, actor, key, in_app, push, email_route)
          RETURNING id, cursor, push, email_route
        )${deliveryRows}
        SELECT (min(cursor))::float8 AS first, ${deliveryCount}::float8 AS deliveries
        FROM inserted`
    }

    // Earlier rows of the user that share a key or an id with the items.
    const lookup = (userId: UserId, keys: ReadonlyArray<string>, ids: ReadonlyArray<NotificationId>) =>
      selectNotifications(sql`
        SELECT ${columns} FROM notifications
        WHERE user_id = ${userId} AND (
          ${keys.length > 0 ? sql`idempotency_key IN ${sql.in(keys)}` : sql`false`}
          OR ${ids.length > 0 ? sql`id IN ${sql.in(ids)}` : sql`false`})`)

    const publishWith = Effect.fnUntraced(function*(
      userId: UserId,
      items: ReadonlyArray<PublishItem>,
      earlier: ReadonlyArray<Notification>,
      route: (kind: NotificationKind) => Route,
      digestDueAt: () => Date,
      now: DateTime.Utc,
      traceParent: string | null
    ) {
      const byId = new Map(earlier.map((n) => [n.id, n]))
      const byKey = new Map(earlier.flatMap((n) => n.idempotencyKey === null ? [] : [[n.idempotencyKey, n] as const]))
      // Each item is new (its index among the fresh ones), or stored by an earlier attempt
      // of this publish (same id), or a duplicate of a stored one or of an earlier item of
      // this same batch (same key).
      const fresh: Array<PublishItem> = []
      const freshIndexByKey = new Map<string, number>()
      const plan = items.map(({ id, item }) => {
        const resent = byId.get(id)
        if (resent !== undefined) return { resent }
        const key = item.idempotencyKey
        if (key !== undefined) {
          const stored = byKey.get(key)
          if (stored !== undefined) return { duplicateOf: stored }
          const inBatch = freshIndexByKey.get(key)
          if (inBatch !== undefined) return { duplicateOfFresh: inBatch }
          freshIndexByKey.set(key, fresh.length)
        }
        fresh.push({ id, item })
        return { fresh: fresh.length - 1 }
      })
      // Cursors are assigned by the database; the rows are built with provisional
      // cursors and renumbered from the statement's answer.
      const provisional = fresh.map((entry, index) => toNotification(userId, entry, now, index + 1))
      let stored: ReadonlyArray<Notification> = []
      let deliveries = 0
      if (Arr.isReadonlyArrayNonEmpty(provisional)) {
        const [answer] = yield* insertFresh(userId, provisional, route, digestDueAt, traceParent)
        const first = answer?.first ?? 1
        deliveries = answer?.deliveries ?? 0
        stored = provisional.map((n, index) => new Notification({ ...n, cursor: Cursor.make(first + index) }, { disableChecks: true }))
      }
      const resent: Array<Notification> = []
      const duplicates = new Map<NotificationId, Notification>()
      const results = Arr.filterMap(plan, (step) => {
        if ("resent" in step) {
          resent.push(step.resent)
          return Result.succeed(new NotifyResult({ id: step.resent.id, cursor: step.resent.cursor, userId, deduplicated: false }))
        }
        if ("duplicateOf" in step) {
          duplicates.set(step.duplicateOf.id, step.duplicateOf)
          const { cursor, id } = step.duplicateOf
          return Result.succeed(new NotifyResult({ id, cursor, userId, deduplicated: true }))
        }
        const own = stored["fresh" in step ? step.fresh : step.duplicateOfFresh]
        return own === undefined
          ? Result.failVoid
          : Result.succeed(new NotifyResult({ id: own.id, cursor: own.cursor, userId, deduplicated: !("fresh" in step) }))
      })
      return { results, stored, deliveries, resent, duplicates: [...duplicates.values()] }
    })

    const publish = Effect.fn("NotificationRepo.publish")(function*(
      userId: UserId,
      items: ReadonlyArray<PublishItem>,
      route: (kind: NotificationKind) => Route,
      digestDueAt: () => Date,
      traceParent: string | null
    ) {
      const now = yield* DateTime.now
      const keys = items.flatMap(({ item }) => item.idempotencyKey === undefined ? [] : [item.idempotencyKey])
      const ids = items.map(({ id }) => id)
      // Keys are looked up first (duplicates by key are common); ids only when the insert
      // collides with one, which happens only when a publish is resent after its node died.
      const earlier = keys.length > 0 ? yield* lookup(userId, keys, ids) : []
      return yield* publishWith(userId, items, earlier, route, digestDueAt, now, traceParent).pipe(
        Effect.catchIf(
          (error) => keys.length === 0 && isUniqueViolation(error),
          () =>
            lookup(userId, keys, ids).pipe(
              Effect.flatMap((found) => publishWith(userId, items, found, route, digestDueAt, now, traceParent))
            )
        ),
        Effect.mapError(unavailable)
      )
    })

    const missingIds = Effect.fn("NotificationRepo.missingIds")(function*(ids: ReadonlyArray<NotificationId>) {
      if (ids.length === 0) return []
      const found = yield* sql<{ readonly id: string }>`
        SELECT id::text AS id FROM notifications WHERE id IN ${sql.in(ids)}`.pipe(Effect.mapError(unavailable))
      const stored = new Set(found.map((row) => row.id))
      return ids.filter((id) => !stored.has(id))
    })

    const latestInAppCursor = Effect.fn("NotificationRepo.latestInAppCursor")(function*(userId: UserId) {
      const rows = yield* sql<{ readonly last: number | null }>`
        SELECT max(cursor)::float8 AS last FROM notifications WHERE user_id = ${userId} AND in_app`.pipe(
        Effect.mapError(unavailable)
      )
      return Cursor.make(rows[0]?.last ?? 0)
    })

    const pageAfter = Effect.fn("NotificationRepo.pageAfter")(function*(userId: UserId, after: Cursor, limit: number) {
      return yield* selectNotifications(sql`
        SELECT ${columns} FROM notifications
        WHERE user_id = ${userId} AND cursor > ${after} AND in_app
        ORDER BY cursor ASC LIMIT ${limit}`)
    })

    const latestCursor = Effect.fn("NotificationRepo.latestCursor")(function*(userId: UserId) {
      const rows = yield* sql<{ readonly last: number }>`
        SELECT last_cursor::float8 AS last FROM herald_users WHERE user_id = ${userId}`.pipe(
        Effect.mapError(unavailable)
      )
      return Cursor.make(rows[0]?.last ?? 0)
    })

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
      publish,
      pageAfter,
      latestCursor,
      latestInAppCursor,
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
      ),
      recordAck: Effect.fn("NotificationRepo.recordAck")((userId: UserId, cursor: Cursor) =>
        sql`UPDATE herald_users SET acked_cursor = GREATEST(acked_cursor, ${cursor}) WHERE user_id = ${userId}`.pipe(
          Effect.asVoid,
          Effect.mapError(unavailable)
        )
      )
    })
  }))
}

const toNotification = (userId: UserId, { id, item }: PublishItem, now: DateTime.Utc, cursor: number) =>
  new Notification({
    id,
    userId,
    cursor: Cursor.make(cursor),
    kind: item.kind,
    title: item.title,
    body: item.body ?? null,
    link: item.link ?? null,
    actor: item.actor ?? null,
    idempotencyKey: item.idempotencyKey ?? null,
    createdAt: now,
    readAt: null
  })

// PostgreSQL's unique_violation: the whole statement was rolled back.
const isUniqueViolation = (error: SqlError.SqlError | StorageUnavailable): boolean =>
  error._tag === "SqlError" && typeof error.cause === "object" && error.cause !== null && "code" in error.cause &&
  error.cause.code === "23505"

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError | StorageUnavailable): StorageUnavailable =>
  cause._tag === "StorageUnavailable" ? cause : new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `stored data did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })
