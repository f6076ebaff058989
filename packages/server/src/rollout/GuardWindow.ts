/**
 * What the rollout guard watches, counted per second over a sliding window:
 * socket sessions, the ones that ended in an error, the ones that resumed
 * (reconnects), in-app delivery latencies (a log histogram, about 4 %
 * resolution), duplicate push sends and notifications found missing.
 *
 * Recording is synchronous and allocation-free on the hot path; reading
 * merges the slots that are still inside the window.
 */
import { bucketOf, LatencyBuckets, upperBound } from "./LatencyHistogram.ts"

interface Slot {
  second: number
  sessions: number
  errors: number
  resumed: number
  duplicatePushes: number
  lost: number
  latencyCount: number
  readonly latencies: Uint32Array
}

const emptySlot = (): Slot => ({
  second: -1,
  sessions: 0,
  errors: 0,
  resumed: 0,
  duplicatePushes: 0,
  lost: 0,
  latencyCount: 0,
  latencies: new Uint32Array(LatencyBuckets)
})

export interface WindowTotals {
  readonly sessions: number
  readonly errors: number
  readonly resumed: number
  readonly duplicatePushes: number
  readonly lost: number
  readonly latencyCount: number
  /** The 95th percentile of delivery latency in ms; null without samples. */
  readonly p95Millis: number | null
}

export interface GuardWindow {
  sessionOpened(resumed: boolean): void
  sessionFailed(): void
  deliveryLatency(millis: number): void
  duplicatePush(): void
  lost(count: number): void
  totals(): WindowTotals
  reset(): void
}

export const makeGuardWindow = (windowSeconds: number, now: () => number = Date.now): GuardWindow => {
  const size = Math.max(1, Math.ceil(windowSeconds))
  const slots = Array.from({ length: size }, emptySlot)

  const current = (): Slot => {
    const second = Math.floor(now() / 1000)
    const slot = slots[second % size] ?? emptySlot()
    if (slot.second !== second) {
      slot.second = second
      slot.sessions = 0
      slot.errors = 0
      slot.resumed = 0
      slot.duplicatePushes = 0
      slot.lost = 0
      slot.latencyCount = 0
      slot.latencies.fill(0)
    }
    return slot
  }

  return {
    sessionOpened: (resumed) => {
      const slot = current()
      slot.sessions++
      if (resumed) slot.resumed++
    },
    sessionFailed: () => {
      current().errors++
    },
    deliveryLatency: (millis) => {
      const slot = current()
      slot.latencyCount++
      const index = bucketOf(millis)
      slot.latencies[index] = (slot.latencies[index] ?? 0) + 1
    },
    duplicatePush: () => {
      current().duplicatePushes++
    },
    lost: (count) => {
      current().lost += count
    },
    totals: () => {
      const oldest = Math.floor(now() / 1000) - size + 1
      const merged = new Float64Array(LatencyBuckets)
      let sessions = 0, errors = 0, resumed = 0, duplicatePushes = 0, lost = 0, latencyCount = 0
      for (const slot of slots) {
        if (slot.second < oldest) continue
        sessions += slot.sessions
        errors += slot.errors
        resumed += slot.resumed
        duplicatePushes += slot.duplicatePushes
        lost += slot.lost
        latencyCount += slot.latencyCount
        for (let i = 0; i < LatencyBuckets; i++) merged[i] = (merged[i] ?? 0) + (slot.latencies[i] ?? 0)
      }
      let p95Millis: number | null = null
      if (latencyCount > 0) {
        const rank = Math.ceil(latencyCount * 0.95)
        let seen = 0
        for (let i = 0; i < LatencyBuckets; i++) {
          seen += merged[i] ?? 0
          if (seen >= rank) {
            p95Millis = upperBound(i)
            break
          }
        }
      }
      return { sessions, errors, resumed, duplicatePushes, lost, latencyCount, p95Millis }
    },
    reset: () => {
      for (const slot of slots) slot.second = -1
    }
  }
}
