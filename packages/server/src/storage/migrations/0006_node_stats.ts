import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * Delivery stats per node and minute, which every node writes from memory
 * every 2 s and every node reads summed over all nodes: the admin stats
 * (`GetStats`) and the rollout guard see the same cluster-wide numbers.
 *
 * A row is a segment of one node's minute: it starts at the minute, or
 * within it when the guard split it at a resume (`started_at`). `latency`
 * holds the log histograms (see `LatencyHistogram`) as
 * `{ "<series>": { "<bucket>": count } }` with the empty buckets left out,
 * which keeps rows small and lets PostgreSQL sum them bucket by bucket.
 * `node_id` is made at each start, so rows of stopped nodes are pruned by
 * age (2 h) rather than by owner.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE node_stats (
      node_id uuid NOT NULL,
      started_at timestamptz NOT NULL,
      minute timestamptz NOT NULL,
      sessions integer NOT NULL DEFAULT 0,
      errors integer NOT NULL DEFAULT 0,
      resumed integer NOT NULL DEFAULT 0,
      duplicate_pushes integer NOT NULL DEFAULT 0,
      lost integer NOT NULL DEFAULT 0,
      latency jsonb NOT NULL DEFAULT '{}',
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (node_id, started_at)
    )
  `
  yield* sql`CREATE INDEX node_stats_recent ON node_stats (started_at)`
})
