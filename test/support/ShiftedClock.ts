/**
 * A clock that reads a chosen instant while sleeping in real time, so a real
 * server can live through a simulated day: its scheduling sees the
 * simulated time, its timers and sockets keep working.
 */
import { Clock, Effect } from "effect"

export const makeShiftedClock = Effect.gen(function*() {
  const base = yield* Clock.Clock
  let offset = 0
  const now = () => base.currentTimeMillisUnsafe() + offset
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: now,
    currentTimeMillis: Effect.sync(now),
    currentTimeNanosUnsafe: () => BigInt(now()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now()) * 1_000_000n),
    monotonicTimeNanosUnsafe: () => base.monotonicTimeNanosUnsafe(),
    monotonicTimeNanos: base.monotonicTimeNanos,
    sleep: (duration) => base.sleep(duration)
  }
  return {
    clock,
    /** From now on the clock reads `instant` (and moves on from it in real time). */
    setTo: (instant: Date) =>
      Effect.sync(() => {
        offset = instant.getTime() - base.currentTimeMillisUnsafe()
      })
  }
})
