/**
 * The `node_stats` table (per node and minute; see migration 0006) and the
 * delivery counts of the `deliveries` table over a window. Readers get sums
 * over every node; merging the histograms and computing rates is
 * `ClusterStats`'s work.
 */
import { StorageUnavailable } from "@herald/domain"
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"

/** One segment of one node's minute, as written. */
export interface StatsRow {
  readonly startedAt: number
  readonly minute: number
  readonly sessions: number
  readonly errors: number
  readonly resumed: number
  readonly duplicatePushes: number
  readonly lost: number
  /** series → bucket → count, empty buckets left out. */
  readonly latency: Readonly<Record<string, Readonly<Record<string, number>>>>
}

/** Which rows a read leaves out: the given segments of one node (those its reader holds fresher in memory). */
export interface Exclude {
  readonly nodeId: string
  readonly startedAt: ReadonlyArray<number>
}

// Sums come back as float8: a bigint would arrive as a string, and these counts stay far below 2^53.
const Sums = Schema.Struct({
  sessions: Schema.Finite,
  errors: Schema.Finite,
  resumed: Schema.Finite,
  duplicatePushes: Schema.Finite,
  lost: Schema.Finite,
  nodes: Schema.Array(Schema.String)
})

const Buckets = Schema.Array(Schema.Struct({ series: Schema.String, bucket: Schema.Finite, count: Schema.Finite }))

/** Histogram buckets per minute (epoch ms of its start). */
const MinuteBuckets = Schema.Array(Schema.Struct({
  minute: Schema.Finite,
  series: Schema.String,
  bucket: Schema.Finite,
  count: Schema.Finite
}))

const DeliveryCounts = Schema.Array(Schema.Struct({
  channel: Schema.String,
  sent: Schema.Finite,
  failed: Schema.Finite,
  dead: Schema.Finite
}))

export interface StatsSums extends Omit<typeof Sums.Type, "nodes"> {
  readonly nodes: ReadonlyArray<string>
  readonly buckets: typeof Buckets.Type
}

const iso = (millis: number) => new Date(millis).toISOString()

export class StatsRepo extends Context.Service<StatsRepo, {
  /** Writes (or rewrites) this node's segments; each row holds totals, so writing one twice is harmless. */
  write(nodeId: string, rows: ReadonlyArray<StatsRow>): Effect.Effect<void, StorageUnavailable>
  /** Deletes every node's rows that started before `before` (nodes get a new id at each start). */
  prune(before: number): Effect.Effect<void, StorageUnavailable>
  /** Counters and histogram buckets summed over the rows that started at or after `since`, but `exclude`. */
  sums(since: number, exclude: Exclude): Effect.Effect<StatsSums, StorageUnavailable>
  /** Histogram buckets summed over every node per minute, for the rows that started at or after `since`, but `exclude`. */
  minuteBuckets(since: number, exclude: Exclude): Effect.Effect<typeof MinuteBuckets.Type, StorageUnavailable>
  /** Per channel, the delivery rows that became sent, failed (to be retried) or dead since `since`. */
  deliveries(since: number): Effect.Effect<typeof DeliveryCounts.Type, StorageUnavailable>
  /** When the kill switch was last turned off (the guard judges only what came after); null if never. */
  lastResume: Effect.Effect<number | null, StorageUnavailable>
}>()("@herald/server/storage/StatsRepo") {
  static readonly layer = Layer.effect(StatsRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeSums = Schema.decodeUnknownEffect(Sums)
    const decodeBuckets = Schema.decodeUnknownEffect(Buckets)
    const decodeMinuteBuckets = Schema.decodeUnknownEffect(MinuteBuckets)
    const decodeDeliveries = Schema.decodeUnknownEffect(DeliveryCounts)
    const decodeResume = Schema.decodeUnknownEffect(Schema.Struct({ at: Schema.NullOr(Schema.Finite) }))

    const write = Effect.fn("StatsRepo.write")(function*(nodeId: string, rows: ReadonlyArray<StatsRow>) {
      for (const row of rows) {
        yield* sql`
          INSERT INTO node_stats (node_id, started_at, minute, sessions, errors, resumed, duplicate_pushes, lost, latency)
          VALUES (${nodeId}::uuid, ${iso(row.startedAt)}::timestamptz, ${iso(row.minute)}::timestamptz,
            ${row.sessions}, ${row.errors}, ${row.resumed}, ${row.duplicatePushes}, ${row.lost},
            ${JSON.stringify(row.latency)}::jsonb)
          ON CONFLICT (node_id, started_at) DO UPDATE SET
            sessions = EXCLUDED.sessions, errors = EXCLUDED.errors, resumed = EXCLUDED.resumed,
            duplicate_pushes = EXCLUDED.duplicate_pushes, lost = EXCLUDED.lost, latency = EXCLUDED.latency,
            updated_at = now()`.pipe(Effect.mapError(unavailable))
      }
    })

    const prune = Effect.fn("StatsRepo.prune")(function*(before: number) {
      yield* sql`DELETE FROM node_stats WHERE started_at < ${iso(before)}::timestamptz`.pipe(Effect.mapError(unavailable))
    })

    const windowRows = (since: number, exclude: Exclude) =>
      sql`
        SELECT * FROM node_stats
        WHERE started_at >= ${iso(since)}::timestamptz
          AND NOT (node_id = ${exclude.nodeId}::uuid AND started_at = ANY(${exclude.startedAt.map(iso)}::timestamptz[]))`

    const sums = Effect.fn("StatsRepo.sums")(function*(since: number, exclude: Exclude) {
      const rows = windowRows(since, exclude)
      const [counters, buckets] = yield* Effect.all([
        sql`
          SELECT coalesce(sum(sessions), 0)::float8 AS sessions, coalesce(sum(errors), 0)::float8 AS errors,
            coalesce(sum(resumed), 0)::float8 AS resumed,
            coalesce(sum(duplicate_pushes), 0)::float8 AS "duplicatePushes", coalesce(sum(lost), 0)::float8 AS lost,
            coalesce(array_agg(DISTINCT node_id::text), '{}') AS nodes
          FROM (${rows}) AS s`.pipe(Effect.flatMap((found) => decodeSums(found[0]))),
        sql`
          SELECT h.key AS series, b.key::int AS bucket, sum(b.value::bigint)::float8 AS count
          FROM (${rows}) AS s, jsonb_each(s.latency) AS h, jsonb_each_text(h.value) AS b
          GROUP BY h.key, b.key`.pipe(Effect.flatMap(decodeBuckets))
      ], { concurrency: 2 }).pipe(Effect.mapError(unavailable))
      return { ...counters, buckets }
    })

    const minuteBuckets = Effect.fn("StatsRepo.minuteBuckets")(function*(since: number, exclude: Exclude) {
      const rows = yield* sql`
        SELECT (extract(epoch FROM s.minute) * 1000)::float8 AS minute, h.key AS series, b.key::int AS bucket,
          sum(b.value::bigint)::float8 AS count
        FROM (${windowRows(since, exclude)}) AS s, jsonb_each(s.latency) AS h, jsonb_each_text(h.value) AS b
        GROUP BY s.minute, h.key, b.key`.pipe(Effect.mapError(unavailable))
      return yield* decodeMinuteBuckets(rows).pipe(Effect.mapError(unavailable))
    })

    const deliveries = Effect.fn("StatsRepo.deliveries")(function*(since: number) {
      // A scan of the rows touched in the window: fine for an operator's question, not for a hot path.
      const rows = yield* sql`
        SELECT channel,
          count(*) FILTER (WHERE state = 'sent')::float8 AS sent,
          count(*) FILTER (WHERE state = 'failed')::float8 AS failed,
          count(*) FILTER (WHERE state = 'dead')::float8 AS dead
        FROM deliveries WHERE updated_at >= ${iso(since)}::timestamptz
        GROUP BY channel`.pipe(Effect.mapError(unavailable))
      return yield* decodeDeliveries(rows).pipe(Effect.mapError(unavailable))
    })

    const lastResume = sql`
      SELECT (extract(epoch FROM max(at)) * 1000)::float8 AS at FROM rollout_changes WHERE action = 'resume'`.pipe(
      Effect.flatMap((rows) => decodeResume(rows[0])),
      Effect.map((row) => row.at),
      Effect.mapError(unavailable),
      Effect.withSpan("StatsRepo.lastResume")
    )

    return StatsRepo.of({ write, prune, sums, minuteBuckets, deliveries, lastResume })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `stored stats did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })
