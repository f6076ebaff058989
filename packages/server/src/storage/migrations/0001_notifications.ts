import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * Users carry their cursor counter: the next notification's cursor is taken
 * from `last_cursor` inside the insert's transaction, so cursors have no gaps
 * and a user's row lock orders concurrent publishes.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE herald_users (
      user_id text PRIMARY KEY,
      last_cursor bigint NOT NULL DEFAULT 0,
      acked_cursor bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now()
    )
  `
  yield* sql`
    CREATE TABLE notifications (
      id uuid PRIMARY KEY,
      user_id text NOT NULL REFERENCES herald_users (user_id),
      cursor bigint NOT NULL,
      kind text NOT NULL,
      title text NOT NULL,
      body text,
      link text,
      actor text,
      idempotency_key text,
      created_at timestamptz NOT NULL,
      read_at timestamptz,
      CONSTRAINT notifications_user_cursor UNIQUE (user_id, cursor),
      CONSTRAINT notifications_user_idempotency UNIQUE (user_id, idempotency_key)
    )
  `
  yield* sql`CREATE INDEX notifications_unread ON notifications (user_id, cursor) WHERE read_at IS NULL`
})
