/**
 * The send bookkeeping delivery and digest rows share: both tables have the
 * same `state`, `attempts`, `last_error`, `next_attempt_at`, `claimed_until`,
 * `provider_id` and `sent_at` columns, and a mark only applies to a row its
 * caller still holds (`state = 'sending'`).
 */
import { Duration, Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"

export type SendTable = "deliveries" | "digests"

export const seconds = (d: Duration.Duration) => Math.max(0, Duration.toMillis(d)) / 1000

/** What a successful send sets, for statements that set more (deliveries count their sends). */
export const sentColumns = (sql: SqlClient.SqlClient, providerId: string) =>
  sql`state = 'sent', provider_id = ${providerId}, sent_at = now(), updated_at = now(), claimed_until = NULL, last_error = NULL`

export const markSent = (sql: SqlClient.SqlClient, table: SendTable, id: number, providerId: string) =>
  Effect.asVoid<unknown, SqlError.SqlError, never>(sql`
    UPDATE ${sql(table)} SET ${sentColumns(sql, providerId)}
    WHERE id = ${id} AND state = 'sending'`)

/** A failed attempt: tried again after `retryIn`, or dead once `maxAttempts` attempts are used. */
export const markFailed = (
  sql: SqlClient.SqlClient,
  table: SendTable,
  id: number,
  error: string,
  retryIn: Duration.Duration,
  maxAttempts: number
) =>
  Effect.asVoid<unknown, SqlError.SqlError, never>(sql`
    UPDATE ${sql(table)} SET
      state = CASE WHEN attempts >= ${maxAttempts} THEN 'dead' ELSE 'failed' END,
      last_error = ${error}, updated_at = now(), claimed_until = NULL,
      next_attempt_at = now() + make_interval(secs => ${seconds(retryIn)})
    WHERE id = ${id} AND state = 'sending'`)
