/**
 * An open-loop publisher: call `i` is due at `t0 + i / rate`, whether or not
 * earlier calls have answered, so a slow server shows up as latency rather
 * than as a lower offered rate (no coordinated omission). Only when
 * `maxInFlight` calls are outstanding does a due call wait; how late each
 * call started is reported as schedule lag.
 */

export interface OpenLoopOptions {
  readonly count: number
  readonly ratePerSecond: number
  readonly maxInFlight: number
  /**
   * Starts call `i`; `startedAt` is `performance.now()` taken just before.
   * Resolves true on success, false on a failure it has recorded itself.
   */
  readonly call: (i: number, startedAt: number) => Promise<boolean>
}

export interface OpenLoopResult {
  /** `performance.now()` when each call started. */
  readonly startedAt: Float64Array
  /** Call latency (start to answer) per call. */
  readonly callMs: Float64Array
  readonly ok: Uint8Array
  /** How late each call started against its slot (ms). */
  readonly lagMs: Float64Array
  readonly failures: number
  /** From the first call's start to the last call's start. */
  readonly sendSpanMs: number
  /** From the first call's start to the last answer. */
  readonly totalMs: number
  readonly maxInFlightSeen: number
}

export const runOpenLoop = (options: OpenLoopOptions): Promise<OpenLoopResult> =>
  new Promise((resolve) => {
    const { count, maxInFlight } = options
    const interval = 1000 / options.ratePerSecond
    const startedAt = new Float64Array(count)
    const callMs = new Float64Array(count)
    const ok = new Uint8Array(count)
    const lagMs = new Float64Array(count)
    let failures = 0
    let next = 0
    let settled = 0
    let inFlight = 0
    let maxInFlightSeen = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const t0 = performance.now()

    const finish = () => {
      const lastAnswer = callMs.reduce((latest, ms, i) => Math.max(latest, (startedAt[i] ?? 0) + ms), t0)
      resolve({
        startedAt,
        callMs,
        ok,
        lagMs,
        failures,
        sendSpanMs: count === 0 ? 0 : (startedAt[count - 1] ?? t0) - (startedAt[0] ?? t0),
        totalMs: lastAnswer - (count === 0 ? t0 : startedAt[0] ?? t0),
        maxInFlightSeen
      })
    }

    const start = (i: number) => {
      inFlight++
      maxInFlightSeen = Math.max(maxInFlightSeen, inFlight)
      const at = performance.now()
      startedAt[i] = at
      lagMs[i] = at - (t0 + i * interval)
      options.call(i, at).then(
        (success) => success,
        () => false
      ).then((success) => {
        callMs[i] = performance.now() - at
        if (success) ok[i] = 1
        else failures++
        inFlight--
        settled++
        if (settled === count) finish()
        else pump()
      })
    }

    const pump = () => {
      if (timer !== undefined) {
        clearTimeout(timer)
        timer = undefined
      }
      const now = performance.now()
      while (next < count && inFlight < maxInFlight && t0 + next * interval <= now) start(next++)
      // Either everything is started, or the cap is reached (an answer will pump), or the next slot is ahead.
      if (next < count && inFlight < maxInFlight) {
        timer = setTimeout(pump, Math.max(0, t0 + next * interval - performance.now()))
      }
    }

    if (count === 0) finish()
    else pump()
  })
