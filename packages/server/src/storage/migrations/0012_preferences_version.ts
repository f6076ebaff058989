import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * A counter bumped by every change of a user's preferences. Publishes route
 * by preferences a node keeps in memory, and their insert stores a user's
 * rows only while the counter still holds the value those preferences were
 * read at, so a change made on another node is never routed past.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE herald_users ADD COLUMN preferences_version bigint NOT NULL DEFAULT 0`
})
