import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * Digests. A notification routed to the digest waits with
 * `digest_state = 'pending'`; the user's `next_digest_at` is the instant its
 * digest is due. At that instant the pending items are claimed into one
 * `digests` row (unique per user and scheduled instant, so two runners or a
 * restart cannot build it twice) and marked `included`, or `skipped` when
 * the user read them in the app first. The digest row is then sent like a
 * delivery: claimed with a lease, retried, dead after the last attempt.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    ALTER TABLE herald_users
      ADD COLUMN digest_settings jsonb,
      ADD COLUMN next_digest_at timestamptz,
      ADD COLUMN last_digest_at timestamptz
  `
  yield* sql`CREATE INDEX herald_users_digest_due ON herald_users (next_digest_at) WHERE next_digest_at IS NOT NULL`
  yield* sql`
    CREATE TABLE digests (
      id bigserial PRIMARY KEY,
      user_id text NOT NULL REFERENCES herald_users (user_id),
      scheduled_at timestamptz NOT NULL,
      target text NOT NULL,
      item_count int NOT NULL,
      state text NOT NULL DEFAULT 'pending',
      attempts int NOT NULL DEFAULT 0,
      last_error text,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      claimed_until timestamptz,
      provider_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      CONSTRAINT digests_once UNIQUE (user_id, scheduled_at)
    )
  `
  yield* sql`CREATE INDEX digests_due ON digests (next_attempt_at) WHERE state IN ('pending', 'failed', 'sending')`
  yield* sql`
    ALTER TABLE notifications
      ADD COLUMN digest_state text,
      ADD COLUMN digest_id bigint REFERENCES digests (id)
  `
  yield* sql`CREATE INDEX notifications_digest_pending ON notifications (user_id, cursor) WHERE digest_state = 'pending'`
})
