/**
 * Digests in PostgreSQL: building the due ones from the pending items (one
 * transaction, the users' rows locked, so two runners or a restart never
 * build one twice), and the sending bookkeeping of the built ones, which
 * works like a delivery's: claimed with a lease, marked after the send.
 */
import { Notification, StorageUnavailable, type UserId } from "@herald/domain"
import { Context, type DateTime, Duration, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as SendState from "./SendState.ts"
import { notificationColumns } from "./NotificationColumns.ts"

export interface ClaimedDigest {
  readonly id: number
  readonly userId: UserId
  readonly target: string
  readonly attempts: number
  /** The items, newest first. */
  readonly items: ReadonlyArray<Notification>
  /** Each item's publish `traceparent` (null when it was published without tracing), in `items` order. */
  readonly traceParents: ReadonlyArray<string | null>
}

export class DigestRepo extends Context.Service<DigestRepo, {
  /** Builds the digests due at `now` (at most `limit` users); returns how many were built. */
  buildDue(now: DateTime.Utc, limit: number): Effect.Effect<number, StorageUnavailable>
  claim(limit: number, lease: Duration.Duration): Effect.Effect<ReadonlyArray<ClaimedDigest>, StorageUnavailable>
  markSent(id: number, providerId: string): Effect.Effect<void, StorageUnavailable>
  markFailed(id: number, error: string, retryIn: Duration.Duration, maxAttempts: number): Effect.Effect<void, StorageUnavailable>
  /** The items a digest built now would contain, newest first, and when it is due. */
  preview(userId: UserId): Effect.Effect<{ readonly dueAt: Date | null; readonly items: ReadonlyArray<Notification> }, StorageUnavailable>
  /** Makes the user's digest due at `now` when items are waiting; returns how many. */
  dueNow(userId: UserId, now: DateTime.Utc): Effect.Effect<number, StorageUnavailable>
}>()("@herald/server/storage/DigestRepo") {
  static readonly layer = Layer.effect(DigestRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeNotifications = Schema.decodeUnknownEffect(Schema.Array(Notification))
    const decodeTraceParents = Schema.decodeUnknownEffect(
      Schema.Array(Schema.Struct({ traceParent: Schema.NullOr(Schema.String) }))
    )
    const columns = notificationColumns(sql)
    const includeRead = sql`COALESCE((u.digest_settings->>'includeRead')::boolean, false)`
    // What the user's next digest would contain: pending, and unread unless they keep read items.
    const waitingFor = (userId: UserId) => sql`
      FROM notifications n JOIN herald_users u ON u.user_id = n.user_id
      WHERE n.user_id = ${userId} AND n.digest_state = 'pending' AND (n.read_at IS NULL OR ${includeRead})`

    const buildDue = Effect.fn("DigestRepo.buildDue")(function*(now: DateTime.Utc, limit: number) {
      const at = new Date(now.epochMilliseconds)
      return yield* sql.withTransaction(Effect.gen(function*() {
        const due = yield* sql<{ readonly userId: string; readonly scheduledAt: Date }>`
          SELECT user_id AS "userId", next_digest_at AS "scheduledAt" FROM herald_users
          WHERE next_digest_at <= ${at} ORDER BY next_digest_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`
        let built = 0
        for (const user of due) {
          // Read in the app first (unless kept), or nowhere to send: left out of every digest.
          yield* sql`
            UPDATE notifications n SET digest_state = 'skipped'
            FROM herald_users u
            WHERE u.user_id = ${user.userId} AND n.user_id = u.user_id AND n.digest_state = 'pending'
              AND ((n.read_at IS NOT NULL AND NOT ${includeRead}) OR u.email_address IS NULL)`
          const made = yield* sql<{ readonly id: number }>`
            WITH digest AS (
              INSERT INTO digests (user_id, scheduled_at, target, item_count)
              SELECT u.user_id, ${user.scheduledAt}, u.email_address, count(*)
              FROM herald_users u JOIN notifications n ON n.user_id = u.user_id AND n.digest_state = 'pending'
              WHERE u.user_id = ${user.userId}
              GROUP BY u.user_id, u.email_address
              ON CONFLICT (user_id, scheduled_at) DO NOTHING
              RETURNING id
            ), included AS (
              UPDATE notifications SET digest_state = 'included', digest_id = digest.id
              FROM digest WHERE user_id = ${user.userId} AND digest_state = 'pending'
              RETURNING 1
            )
            SELECT id::float8 AS id FROM digest`
          built += made.length
          yield* sql`
            UPDATE herald_users SET next_digest_at = NULL, last_digest_at = ${user.scheduledAt}
            WHERE user_id = ${user.userId}`
        }
        return built
      })).pipe(Effect.mapError(unavailable))
    })

    const claim = Effect.fn("DigestRepo.claim")(function*(limit: number, lease: Duration.Duration) {
      const claimed = yield* sql<{ readonly id: number; readonly userId: UserId; readonly target: string; readonly attempts: number }>`
        UPDATE digests d SET state = 'sending', attempts = d.attempts + 1, updated_at = now(),
          claimed_until = now() + make_interval(secs => ${SendState.seconds(lease)})
        FROM (
          SELECT id FROM digests
          WHERE (state IN ('pending', 'failed') AND next_attempt_at <= now())
             OR (state = 'sending' AND claimed_until < now())
          ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
        ) due
        WHERE d.id = due.id
        RETURNING d.id::float8 AS id, d.user_id AS "userId", d.target, d.attempts`.pipe(Effect.mapError(unavailable))
      return yield* Effect.forEach(claimed, (digest) =>
        sql`SELECT ${columns}, n.trace_parent AS "traceParent" FROM notifications n
          WHERE n.digest_id = ${digest.id} ORDER BY n.cursor DESC`.pipe(
          Effect.flatMap((rows) =>
            Effect.all({ items: decodeNotifications(rows), traces: decodeTraceParents(rows) })
          ),
          Effect.map(({ items, traces }): ClaimedDigest => ({
            ...digest,
            items,
            traceParents: traces.map((row) => row.traceParent)
          })),
          Effect.mapError(unavailable)
        ))
    })

    const run = (statement: Effect.Effect<unknown, SqlError.SqlError>) =>
      statement.pipe(Effect.asVoid, Effect.mapError(unavailable))

    const preview = Effect.fn("DigestRepo.preview")(function*(userId: UserId) {
      const [user] = yield* sql<{ readonly dueAt: Date | null }>`
        SELECT next_digest_at AS "dueAt" FROM herald_users WHERE user_id = ${userId}`.pipe(Effect.mapError(unavailable))
      const items = yield* sql`SELECT ${columns} ${waitingFor(userId)} ORDER BY n.cursor DESC`.pipe(
        Effect.flatMap(decodeNotifications),
        Effect.mapError(unavailable)
      )
      return { dueAt: user?.dueAt ?? null, items }
    })

    const dueNow = Effect.fn("DigestRepo.dueNow")(function*(userId: UserId, now: DateTime.Utc) {
      const [row] = yield* sql<{ readonly waiting: number }>`
        WITH waiting AS (
          SELECT count(*) AS n ${waitingFor(userId)}
        ), moved AS (
          UPDATE herald_users SET next_digest_at = ${new Date(now.epochMilliseconds)}
          WHERE user_id = ${userId} AND (SELECT n FROM waiting) > 0
          RETURNING 1
        )
        SELECT (SELECT n FROM waiting)::float8 AS waiting`.pipe(Effect.mapError(unavailable))
      return row?.waiting ?? 0
    })

    return DigestRepo.of({
      buildDue,
      claim,
      preview,
      dueNow,
      markSent: Effect.fn("DigestRepo.markSent")((id: number, providerId: string) =>
        run(SendState.markSent(sql, "digests", id, providerId))
      ),
      markFailed: Effect.fn("DigestRepo.markFailed")(
        (id: number, error: string, retryIn: Duration.Duration, maxAttempts: number) =>
          run(SendState.markFailed(sql, "digests", id, error, retryIn, maxAttempts))
      )
    })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `a digest item did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })
