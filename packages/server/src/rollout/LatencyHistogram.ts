/**
 * The log-scale latency histogram shared by the guard's per-second window and
 * the cluster's per-minute stats: bucket `i` holds latencies up to
 * `1.04^i - 1` ms (about 4 % resolution, 400 buckets up to ~1.6e7 ms).
 * Because every node uses the same buckets, histograms of several nodes and
 * minutes merge by adding counts bucket by bucket, and the percentiles of the
 * merge are those of all the samples (within the bucket resolution) — which
 * averaging per-node percentiles would not give.
 */
const Growth = 1.04
export const LatencyBuckets = 400

export const bucketOf = (millis: number): number =>
  Math.min(LatencyBuckets - 1, Math.max(0, Math.ceil(Math.log1p(Math.max(0, millis)) / Math.log(Growth))))

/** The upper bound (ms) of a latency bucket. */
export const upperBound = (bucket: number): number => Math.expm1(bucket * Math.log(Growth))

/** A merged histogram: bucket index → samples. Sparse, as most buckets are empty. */
export type SparseHistogram = ReadonlyMap<number, number>

/** Adds `from` (bucket → count) into `into`. */
export const mergeInto = (into: Map<number, number>, from: Iterable<readonly [number, number]>): void => {
  for (const [bucket, count] of from) {
    if (count > 0) into.set(bucket, (into.get(bucket) ?? 0) + count)
  }
}

export const sampleCount = (histogram: SparseHistogram): number => {
  let total = 0
  for (const count of histogram.values()) total += count
  return total
}

/**
 * The `quantile` (0–1) of the samples, as the upper bound of the bucket that
 * holds the sample of that rank (so it never understates a latency); null
 * without samples.
 */
export const percentile = (histogram: SparseHistogram, quantile: number): number | null => {
  const total = sampleCount(histogram)
  if (total === 0) return null
  const rank = Math.max(1, Math.ceil(total * quantile))
  let seen = 0
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket) ?? 0
    if (seen >= rank) return upperBound(bucket)
  }
  return null
}
