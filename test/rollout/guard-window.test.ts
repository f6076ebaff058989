/**
 * The guard's sliding window: counts expire with the window, and the p95 of
 * delivery latency is within the histogram's 4 % resolution.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeGuardWindow } from "@herald/server/rollout/GuardWindow"

describe("GuardWindow", () => {
  it("p95 of 1..1000 ms is about 950 ms", () => {
    const window = makeGuardWindow(60, () => 1_000_000)
    for (let ms = 1; ms <= 1000; ms++) window.deliveryLatency(ms)
    const { latencyCount, p95Millis } = window.totals()
    assert.strictEqual(latencyCount, 1000)
    assert.approximately(p95Millis ?? 0, 950, 950 * 0.04)
  })

  it("events older than the window no longer count; a reset forgets everything", () => {
    let now = 1_000_000
    const window = makeGuardWindow(10, () => now)
    window.sessionOpened(false)
    window.sessionFailed()
    window.duplicatePush()
    now += 5_000
    window.sessionOpened(true)
    window.lost(2)
    assert.deepInclude(window.totals(), { sessions: 2, errors: 1, resumed: 1, duplicatePushes: 1, lost: 2 })
    now += 6_000 // the first second is now 11 s old
    assert.deepInclude(window.totals(), { sessions: 1, errors: 0, resumed: 1, duplicatePushes: 0, lost: 2 })
    window.reset()
    assert.deepInclude(window.totals(), { sessions: 0, lost: 0, latencyCount: 0, p95Millis: null })
  })
})
