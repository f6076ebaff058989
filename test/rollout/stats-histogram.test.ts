/**
 * The stats' building blocks: histograms of several nodes merge into the
 * percentiles of all their samples, and windows count whole minutes, with a
 * split (a resume) starting a new segment that a reader can take alone.
 */
import { assert, describe, it } from "@effect/vitest"
import { mergeInto, percentile, sampleCount } from "@herald/server/rollout/LatencyHistogram"
import { makeMinuteStats, nonEmpty, windowStart } from "@herald/server/rollout/MinuteStats"

const within = (actual: number | null, expected: number) =>
  assert.approximately(actual ?? -1, expected, expected * 0.04 + 1, `${actual} ≈ ${expected}`)

describe("latency histograms", () => {
  it("two nodes' histograms merge into the percentiles of all their samples", () => {
    const a = makeMinuteStats(() => 600_000)
    const b = makeMinuteStats(() => 600_000)
    // Node a saw 1..900 ms, node b 901..1000 ms: b alone has p50 ≈ 950, the merge p50 ≈ 500.
    for (let ms = 1; ms <= 900; ms++) a.recorder.deliveryLatency(ms)
    for (let ms = 901; ms <= 1000; ms++) b.recorder.deliveryLatency(ms)
    const merged = new Map<number, number>()
    for (const node of [a, b]) for (const segment of node.unflushed()) mergeInto(merged, nonEmpty(segment.latency.in_app))
    assert.strictEqual(sampleCount(merged), 1000)
    within(percentile(merged, 0.5), 500)
    within(percentile(merged, 0.95), 950)
    within(percentile(merged, 0.99), 990)
  })

  it("on a skewed known sample, p50/p95/p99 from the histogram are the exact ones within one bucket (4 %)", () => {
    // 20,000 log-normal latencies from a fixed-seed generator, so the exact percentiles are known.
    let seed = 42
    const uniform = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) + 1) / (2 ** 31 + 1)
    const samples = Array.from({ length: 20_000 }, () =>
      Math.exp(3 + 1.2 * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())))
    const stats = makeMinuteStats(() => 0)
    for (const ms of samples) stats.recorder.deliveryLatencyOn("push", ms)
    const histogram = new Map<number, number>()
    for (const segment of stats.unflushed()) mergeInto(histogram, nonEmpty(segment.latency.push))
    const sorted = [...samples].sort((a, b) => a - b)
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1] ?? 0
      const estimate = percentile(histogram, q) ?? -1
      // The estimate is the upper bound of the exact value's bucket: never below it, at most one step above.
      assert.isAtLeast(estimate, exact * 0.999, `p${q * 100}`)
      assert.isAtMost(estimate, exact * 1.04 + 1, `p${q * 100}: ${estimate} vs exact ${exact}`)
    }
  })

  it("no samples: no percentile; one sample: every percentile is its bucket", () => {
    assert.isNull(percentile(new Map(), 0.5))
    const one = makeMinuteStats(() => 0)
    one.recorder.deliveryLatencyOn("email", 2_000)
    const [segment] = one.unflushed()
    const histogram = new Map(nonEmpty(segment?.latency.email ?? new Uint32Array()))
    within(percentile(histogram, 0.5), 2_000)
    assert.strictEqual(percentile(histogram, 0.5), percentile(histogram, 0.99))
    assert.strictEqual(sampleCount(new Map(nonEmpty(segment?.latency.in_app ?? new Uint32Array()))), 0, "per channel")
  })
})

describe("minute segments", () => {
  it("a window counts whole minutes: 1m at 12:05:30 starts at 12:04:00", () => {
    const at = (h: number, m: number, s: number) => Date.UTC(2026, 0, 1, h, m, s)
    assert.strictEqual(windowStart(at(12, 5, 30), 60), at(12, 4, 0))
    assert.strictEqual(windowStart(at(12, 5, 0), 60), at(12, 4, 0))
    assert.strictEqual(windowStart(at(12, 5, 30), 300), at(12, 0, 0))
    assert.strictEqual(windowStart(at(12, 5, 30), 20), at(12, 5, 0))
  })

  it("a new minute closes the segment; flushed closed segments go, the open one stays; a split starts one now", () => {
    let now = 1_000 * 60_000 + 10_000
    const stats = makeMinuteStats(() => now)
    stats.recorder.sessionOpened(false)
    stats.recorder.duplicatePush()
    now += 60_000
    stats.recorder.sessionOpened(true)
    stats.recorder.lost(2)
    const segments = stats.unflushed()
    assert.deepStrictEqual(segments.map((s) => [s.startedAt, s.sessions, s.resumed, s.duplicatePushes, s.lost]), [
      [1_000 * 60_000, 1, 0, 1, 0],
      [1_001 * 60_000, 1, 1, 0, 2]
    ])
    stats.flushed(segments)
    assert.deepStrictEqual(stats.unflushed().map((s) => s.startedAt), [1_001 * 60_000])
    now += 5_000
    stats.split()
    stats.recorder.sessionFailed()
    const [before, after] = stats.unflushed()
    assert.strictEqual(before?.errors, 0)
    assert.strictEqual(after?.startedAt, now)
    assert.strictEqual(after?.minute, 1_001 * 60_000)
    assert.strictEqual(after?.errors, 1)
  })
})
