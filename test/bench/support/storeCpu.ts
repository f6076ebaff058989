/**
 * CPU time of a system's backing store, which the server's own CPU does not
 * include: the PostgreSQL backends connected to the run's database (read
 * from /proc, so PostgreSQL must run on this machine; backends that come and
 * go between two readings are missed) and the private redis-server
 * (`INFO cpu`). Each reading is a snapshot; `storeCpuDelta` subtracts two.
 */
import { createClient } from "redis"
import { Effect } from "effect"
import { query, serverUrl } from "../../support/TestDatabase.ts"
import { readCpuSeconds } from "./system.ts"

export interface StoreCpuReading {
  /** CPU seconds per PostgreSQL backend pid of the run's database. */
  readonly postgres: ReadonlyMap<number, number>
  /** redis-server's used_cpu_user + used_cpu_sys; null without Redis. */
  readonly redis: number | null
}

const postgresBackends = async (databaseName: string): Promise<Map<number, number>> => {
  const rows = await Effect.runPromise(
    query<{ readonly pid: number }>(`${serverUrl}/postgres`, "SELECT pid FROM pg_stat_activity WHERE datname = $1", [databaseName])
  )
  const seconds = new Map<number, number>()
  for (const row of rows) {
    const cpu = readCpuSeconds(row.pid)
    if (cpu !== null) seconds.set(row.pid, cpu)
  }
  return seconds
}

const redisCpu = async (url: string): Promise<number | null> => {
  const client = createClient({ url })
  await client.connect()
  try {
    const info = await client.info("cpu")
    const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(info)?.[1] ?? Number.NaN)
    const total = field("used_cpu_user") + field("used_cpu_sys")
    return Number.isFinite(total) ? total : null
  } finally {
    await client.quit()
  }
}

export const readStoreCpu = async (databaseName: string | null, redisUrl: string | null): Promise<StoreCpuReading> => ({
  postgres: databaseName === null ? new Map() : await postgresBackends(databaseName),
  redis: redisUrl === null ? null : await redisCpu(redisUrl)
})

/** CPU seconds between two readings: PostgreSQL over the backends present in both. */
export const storeCpuDelta = (before: StoreCpuReading, after: StoreCpuReading) => {
  let postgres = 0
  let backends = 0
  for (const [pid, seconds] of after.postgres) {
    const earlier = before.postgres.get(pid)
    if (earlier === undefined) continue
    postgres += seconds - earlier
    backends++
  }
  return {
    postgresSeconds: before.postgres.size === 0 ? null : postgres,
    postgresBackends: backends,
    redisSeconds: before.redis === null || after.redis === null ? null : after.redis - before.redis
  }
}
