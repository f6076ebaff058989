/**
 * Percentiles for benchmark reports: nearest-rank on a sorted copy, in the
 * unit the samples were recorded in, rounded for printing.
 */

export interface Summary {
  readonly count: number
  readonly min: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

const round = (value: number, digits = 2): number => {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}

/** Nearest-rank percentile `p` (0–100) of already sorted samples; `NaN` when there are none. */
export const percentile = (sorted: Float64Array, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN
}

/** count, min, p50, p95, p99, max and mean of `samples`; just `{ count: 0 }` when there are none. */
export const summarize = (samples: ReadonlyArray<number>): Summary | { readonly count: 0 } => {
  if (samples.length === 0) return { count: 0 }
  const sorted = Float64Array.from(samples).sort()
  let total = 0
  for (const value of sorted) total += value
  return {
    count: sorted.length,
    min: round(sorted[0] ?? Number.NaN),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    mean: round(total / sorted.length)
  }
}

export { round }
