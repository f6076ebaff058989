import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * Each channel's delivery loop claims only its own due rows, so the due index
 * leads with the channel: a backlog of one channel (SES down, thousands of
 * emails waiting) is not walked by the other's claims.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX deliveries_due_by_channel ON deliveries (channel, next_attempt_at) WHERE state IN ('pending', 'failed', 'sending')`
  yield* sql`DROP INDEX deliveries_due`
})
