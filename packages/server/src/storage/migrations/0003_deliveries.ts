import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * One delivery row per (notification, channel, target): a device token for
 * push, the address for email. Rows are written in the publish statement
 * itself, so a publish that returned success has its deliveries on record.
 * In-app needs no row: the user's cursor is its delivery record.
 *
 * States: pending → sending (claimed, with a lease) → sent | failed (retried
 * later) → dead after the last attempt; discarded when retrying cannot help
 * (an unregistered device token).
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    ALTER TABLE notifications
      ADD COLUMN push boolean NOT NULL DEFAULT false,
      ADD COLUMN email_route text NOT NULL DEFAULT 'off'
  `
  yield* sql`
    CREATE TABLE deliveries (
      id bigserial PRIMARY KEY,
      notification_id uuid NOT NULL REFERENCES notifications (id),
      user_id text NOT NULL,
      channel text NOT NULL,
      target text NOT NULL,
      state text NOT NULL DEFAULT 'pending',
      attempts int NOT NULL DEFAULT 0,
      last_error text,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      claimed_until timestamptz,
      provider_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      CONSTRAINT deliveries_once UNIQUE (notification_id, channel, target)
    )
  `
  yield* sql`CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed', 'sending')`
  yield* sql`CREATE INDEX deliveries_dead ON deliveries (updated_at DESC) WHERE state = 'dead'`
})
