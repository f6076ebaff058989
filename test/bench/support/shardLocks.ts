/**
 * Who owns the cluster's shards, read from PostgreSQL rather than from the
 * nodes: effect/cluster's SQL runner storage takes one advisory lock per
 * shard (key 1,000,000 + shard number) on a runner's lock connection, so
 * `pg_locks` shows which backend holds each shard. A `kill -9`ed runner's
 * connection ends with it and its locks vanish at once; they reappear when
 * the survivors take the shards over. That makes "the shards moved" a fact
 * the benchmark can time, and, with the shard of each user, tells which
 * users' mailboxes were on the killed node.
 */
import { PgClient } from "@effect/sql-pg"
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { Context, Effect, Layer, Redacted, type Scope } from "effect"
import { EntityId, MessageStorage, RunnerHealth, Runners, RunnerStorage, Sharding, ShardingConfig } from "effect/cluster"
import { SqlClient } from "effect/sql"

/** effect/cluster's `shardsPerGroup` default, which Herald keeps. */
export const ShardCount = 300
const LockBase = 1_000_000

export interface ShardLocks {
  /** Shard number → PostgreSQL backend pid of the runner connection holding it. */
  readonly owners: () => Promise<ReadonlyMap<number, number>>
}

export const shardLocks = (databaseUrl: string): Effect.Effect<ShardLocks, never, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 1 })).pipe(Effect.orDie)
    const sql = Context.get(context, SqlClient.SqlClient)
    const owners = () =>
      Effect.runPromise(
        sql.unsafe<{ readonly shard: number; readonly pid: number }>(
          `SELECT objid::bigint::int - ${LockBase} AS shard, pid FROM pg_locks ` +
            "WHERE locktype = 'advisory' AND objsubid = 2 AND granted " +
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).pipe(
          Effect.orDie,
          Effect.map((rows) => new Map(rows.filter((row) => row.shard >= 1 && row.shard <= ShardCount).map((row) => [row.shard, row.pid])))
        )
      )
    return { owners }
  })

/** Shards held per runner, largest first. */
export const holders = (owners: ReadonlyMap<number, number>): Array<number> => {
  const counts = new Map<number, number>()
  for (const pid of owners.values()) counts.set(pid, (counts.get(pid) ?? 0) + 1)
  return [...counts.values()].sort((a, b) => b - a)
}

/**
 * The shard number of a user's mailbox, from effect/cluster's own
 * `Sharding.getShardId` (a standalone instance with no runners), so the
 * benchmark does not copy its hash.
 */
export const shardOfUser: Effect.Effect<(userId: string) => number, never, Scope.Scope> = Effect.gen(function*() {
  const context = yield* Layer.build(
    Sharding.layer.pipe(
      Layer.provide(Runners.layerNoop),
      Layer.provide([MessageStorage.layerNoop, RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
      Layer.provide(ShardingConfig.layer({ shardsPerGroup: ShardCount })),
      Layer.provide(NodeCrypto.layerDigest)
    )
  )
  const sharding = Context.get(context, Sharding.Sharding)
  return (userId: string) => sharding.getShardId(EntityId.make(userId), "default").id
})

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

/**
 * Waits until `runners` runners hold every shard, two readings in a row (a
 * node that just joined takes its share over a second or two, and messages
 * to shards on the move wait meanwhile). Resolves with the last reading.
 */
export const waitForBalance = async (locks: ShardLocks, runners: number, timeoutMs: number): Promise<ReadonlyArray<number>> => {
  const deadline = performance.now() + timeoutMs
  let steady = 0
  let last: ReadonlyArray<number> = []
  while (performance.now() < deadline) {
    const owners = await locks.owners()
    last = holders(owners)
    steady = last.length === runners && owners.size === ShardCount ? steady + 1 : 0
    if (steady >= 2) return last
    await sleep(250)
  }
  throw new Error(`the shards were not spread over ${runners} runners within ${timeoutMs} ms (last reading: ${JSON.stringify(last)})`)
}

/**
 * From just before a kill until the survivors hold every shard again: which
 * shards the killed runner held (those whose holder vanished) and when they
 * were first and all re-owned.
 */
export const watchTakeover = async (locks: ShardLocks, before: ReadonlyMap<number, number>, killAt: number, timeoutMs: number) => {
  const orphaned = new Set<number>()
  let firstReownedAt: number | null = null
  const deadline = killAt + timeoutMs
  while (performance.now() < deadline) {
    // A failed reading (the database is busy) is only a gap in the timeline.
    const owners = await locks.owners().catch(() => undefined)
    const at = performance.now()
    if (owners === undefined) {
      await sleep(100)
      continue
    }
    const alive = new Set(owners.values())
    for (const [shard, pid] of before) if (!alive.has(pid)) orphaned.add(shard)
    const reowned = [...orphaned].filter((shard) => owners.has(shard)).length
    if (reowned > 0 && firstReownedAt === null) firstReownedAt = at
    if (orphaned.size > 0 && reowned === orphaned.size) {
      return { orphaned, firstReownedAt, allReownedAt: at, heldAfter: holders(owners) }
    }
    await sleep(100)
  }
  return { orphaned, firstReownedAt, allReownedAt: null, heldAfter: holders(await locks.owners().catch(() => new Map())) }
}
