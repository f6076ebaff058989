import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * Each user's latest in-app cursor, kept in the counter row that a publish
 * takes anyway, and the one before the latest publish changed it. A publish
 * reads the second back from its own insert, so the `previous` cursor its
 * frames name is exact however many nodes publish to the user at once
 * (the row lock orders them), with no per-user state in memory.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    ALTER TABLE herald_users
      ADD COLUMN last_in_app_cursor bigint NOT NULL DEFAULT 0,
      ADD COLUMN prior_in_app_cursor bigint NOT NULL DEFAULT 0
  `
  yield* sql`
    UPDATE herald_users u SET last_in_app_cursor = n.last
    FROM (SELECT user_id, max(cursor) AS last FROM notifications WHERE in_app GROUP BY user_id) n
    WHERE n.user_id = u.user_id
  `
})
