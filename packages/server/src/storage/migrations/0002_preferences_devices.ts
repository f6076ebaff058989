import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * Preferences live on the user row as the user's own changes (`preference_overrides`),
 * so a change of defaults reaches everyone who did not choose otherwise.
 * A device token is its own key: it belongs to one user at a time.
 * `in_app` records whether the notification went to sockets, so a resume
 * replays exactly what live delivery sent.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    ALTER TABLE herald_users
      ADD COLUMN existing_before_rollout boolean NOT NULL DEFAULT false,
      ADD COLUMN email_address text,
      ADD COLUMN preference_overrides jsonb NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN preferences_updated_at timestamptz
  `
  yield* sql`
    CREATE TABLE devices (
      token text PRIMARY KEY,
      user_id text NOT NULL REFERENCES herald_users (user_id),
      platform text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )
  `
  yield* sql`CREATE INDEX devices_user ON devices (user_id, created_at DESC)`
  yield* sql`ALTER TABLE notifications ADD COLUMN in_app boolean NOT NULL DEFAULT true`
})
