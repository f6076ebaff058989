import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * The `traceparent` of the publish that stored a notification: push, email
 * and digest sends, which run later and maybe on another node, continue the
 * notification's trace from it.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE notifications ADD COLUMN trace_parent text`
})
