import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * The rollout flag (one row per flag) and its audit trail. A change updates
 * the row, appends the change and notifies the other nodes in one
 * transaction, so no node applies a change that was not recorded.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE rollout_flags (
      flag text PRIMARY KEY,
      percentage double precision NOT NULL DEFAULT 0 CHECK (percentage >= 0 AND percentage <= 100),
      killed boolean NOT NULL DEFAULT false,
      allow text[] NOT NULL DEFAULT '{}',
      deny text[] NOT NULL DEFAULT '{}',
      version bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by text NOT NULL DEFAULT 'herald'
    )
  `
  yield* sql`
    CREATE TABLE rollout_changes (
      id bigserial PRIMARY KEY,
      flag text NOT NULL REFERENCES rollout_flags (flag),
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      user_id text,
      reason text,
      from_state jsonb NOT NULL,
      to_state jsonb NOT NULL
    )
  `
  // Real-time on for everyone by default; a staged rollout starts with `rollout set 0`.
  yield* sql`INSERT INTO rollout_flags (flag, percentage) VALUES ('realtime_notifications', 100)`
  yield* sql`CREATE INDEX rollout_changes_recent ON rollout_changes (flag, id DESC)`
  // Resending a delivery that was already sent is the guard's "duplicate push" trigger.
  yield* sql`ALTER TABLE deliveries ADD COLUMN sends integer NOT NULL DEFAULT 0`
})
