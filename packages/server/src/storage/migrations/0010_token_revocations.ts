import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * One row per user whose client tokens were revoked: every token issued at
 * or before `revoked_at` is refused. Rows older than the longest token
 * lifetime (30 days) no longer matter and are pruned.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE herald_token_revocations (
      user_id text PRIMARY KEY,
      revoked_at timestamptz NOT NULL
    )
  `
  yield* sql`CREATE INDEX herald_token_revocations_at ON herald_token_revocations (revoked_at)`
})
