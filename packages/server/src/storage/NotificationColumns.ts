/**
 * The select list that reads a `Notification` from a notifications row
 * aliased `n`, in the shape its schema decodes (ids and times as text,
 * bigints as numbers).
 */
import type { SqlClient } from "effect/sql"

export const notificationColumns = (sql: SqlClient.SqlClient) => sql`
  n.id::text AS id, n.user_id AS "userId", n.cursor::float8 AS cursor, n.kind, n.title, n.body, n.link, n.actor,
  n.idempotency_key AS "idempotencyKey", to_json(n.created_at)#>>'{}' AS "createdAt", to_json(n.read_at)#>>'{}' AS "readAt"`
