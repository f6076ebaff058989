/**
 * Clients' acks, kept in PostgreSQL as each user's highest acked cursor.
 *
 * Acks arrive for nearly every frame, so they are gathered in memory and
 * written together every `FlushMillis`, one statement for all users. The
 * acked cursor is advisory (operators read it in `herald user`; delivery
 * never depends on it), so an ack lost with a crashed node costs nothing
 * but a stale figure; a failed flush keeps its acks for the next one.
 */
import { type Cursor, type UserId } from "@herald/domain"
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"

const FlushMillis = 200
// One statement's parameters stay far below PostgreSQL's 65,535.
const MaxUsersPerStatement = 5_000

export class AckWriter extends Context.Service<AckWriter, {
  /** Notes that the user's client acked up to `cursor`; written within `FlushMillis`. Per frame, so not an effect. */
  recordUnsafe(userId: UserId, cursor: Cursor): void
  /** Writes the acks gathered so far (at shutdown, and for tests that read them back). */
  readonly flush: Effect.Effect<void>
}>()("@herald/server/storage/AckWriter") {
  static readonly layer = Layer.effect(AckWriter, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    let pending = new Map<UserId, Cursor>()

    const write = (acks: ReadonlyArray<readonly [UserId, Cursor]>) =>
      sql`
        UPDATE herald_users u SET acked_cursor = GREATEST(u.acked_cursor, a.cursor::bigint)
        FROM (VALUES ${sql.csv(acks.map(([userId, cursor]) => sql`(${userId}, ${cursor})`))}) AS a (user_id, cursor)
        WHERE u.user_id = a.user_id`

    const writePending = Effect.suspend(() => {
      const acks = [...pending]
      pending = new Map()
      const chunks = Array.from({ length: Math.ceil(acks.length / MaxUsersPerStatement) }, (_, i) =>
        acks.slice(i * MaxUsersPerStatement, (i + 1) * MaxUsersPerStatement))
      return Effect.forEach(chunks, (chunk) =>
        write(chunk).pipe(
          Effect.catch(() =>
            Effect.sync(() => {
              for (const [userId, cursor] of chunk) recordUnsafe(userId, cursor)
            })
          )
        ), { discard: true })
    }).pipe(Effect.withSpan("AckWriter.flush"))
    const flush = Effect.suspend(() => pending.size === 0 ? Effect.void : writePending)

    const recordUnsafe = (userId: UserId, cursor: Cursor) => {
      const known = pending.get(userId)
      if (known === undefined || cursor > known) pending.set(userId, cursor)
    }

    yield* Effect.forkScoped(Effect.repeat(flush, Schedule.spaced(Duration.millis(FlushMillis))))
    yield* Effect.addFinalizer(() => flush)

    return AckWriter.of({ recordUnsafe, flush })
  }))
}
