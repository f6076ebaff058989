/**
 * One clock for every process of a benchmark run. `performance.now()` counts
 * from each process's own start, so its readings do not compare across
 * processes; `process.hrtime` is the machine's CLOCK_MONOTONIC, shared by
 * all of them. `performance.now()` is that same clock minus a per-process
 * offset, read once here, so a time taken with `performance.now()` (as the
 * socket pool and the open-loop publisher do) converts without a second
 * reading.
 */
const offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now()

/** A `performance.now()` reading of this process on the shared clock (ms). */
export const shared = (performanceNow: number): number => performanceNow + offsetMs

/** Now, on the shared clock (ms). */
export const sharedNow = (): number => shared(performance.now())

/** CPU seconds (user + system) this process has used. */
export const ownCpuSeconds = (): number => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}
