import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * Replays. Each row a replay acts on is stamped with the replay's id, so a
 * page repeated after an interruption finds it done and acts on nothing
 * twice. `resends_allowed` counts the forced replays of a delivery already
 * sent: those sends are wanted, and only sends beyond them are duplicates
 * (what the rollout guard watches for).
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    ALTER TABLE deliveries
      ADD COLUMN replay_id uuid,
      ADD COLUMN resends_allowed integer NOT NULL DEFAULT 0
  `
  yield* sql`ALTER TABLE notifications ADD COLUMN replay_id uuid`
})
