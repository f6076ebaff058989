/**
 * This node's delivery stats in memory, per minute, until they are written
 * to `node_stats` (every 2 s, see `ClusterStats`).
 *
 * Counts go into a segment: normally one per minute, starting at the minute.
 * `split()` ends the current segment early and starts a new one now; the
 * guard does that when an operator resumes after a trip, so the samples from
 * before the resume (same minute included) can be left out of its judgement
 * while the admin stats still count them.
 *
 * A segment stays here until a flush has written it after it closed; the
 * open one always stays. A reader adds these segments to what the database
 * holds of other nodes (and of this node's older segments), so this node's
 * own events count the moment they happen, not after the next flush.
 */
import { bucketOf, LatencyBuckets } from "./LatencyHistogram.ts"
import { LatencySeries, type StatsRecorder } from "./StatsRecorder.ts"

export const MinuteMillis = 60_000

export const minuteOf = (millis: number): number => Math.floor(millis / MinuteMillis) * MinuteMillis

/**
 * Where a window of `seconds` ending at `now` starts, at minute granularity:
 * the start of the minute that holds `now - seconds`. Whole minutes are
 * counted, never a weighted part of one: a window covers between `seconds`
 * and `seconds + 60` s of data ("1m" is the current partial minute plus the
 * whole previous one). Weighting would turn counts such as duplicate pushes
 * into fractions and could hide a single event; a little more history is
 * the safer error for stats that trip a kill switch.
 */
export const windowStart = (now: number, seconds: number): number => minuteOf(now - seconds * 1000)

export interface Counters {
  sessions: number
  errors: number
  resumed: number
  duplicatePushes: number
  lost: number
}

export interface Segment extends Counters {
  /** When counting into it began: the minute's start, or a `split()` within the minute. */
  readonly startedAt: number
  readonly minute: number
  readonly latency: Readonly<Record<LatencySeries, Uint32Array>>
}

const emptySegment = (startedAt: number): Segment => ({
  startedAt,
  minute: minuteOf(startedAt),
  sessions: 0,
  errors: 0,
  resumed: 0,
  duplicatePushes: 0,
  lost: 0,
  latency: {
    in_app: new Uint32Array(LatencyBuckets),
    push: new Uint32Array(LatencyBuckets),
    email: new Uint32Array(LatencyBuckets),
    digest: new Uint32Array(LatencyBuckets),
    ack: new Uint32Array(LatencyBuckets)
  }
})

/** A histogram's non-empty buckets, as `[bucket, count]` pairs. */
export const nonEmpty = (buckets: Uint32Array): Array<readonly [number, number]> => {
  const pairs: Array<readonly [number, number]> = []
  buckets.forEach((count, bucket) => {
    if (count > 0) pairs.push([bucket, count])
  })
  return pairs
}

export interface MinuteStats {
  readonly recorder: StatsRecorder
  /** The segments not yet written since they closed, then the open one (rolled to the current minute). */
  unflushed(): ReadonlyArray<Segment>
  /** The given segments were written: the closed ones among them may go. */
  flushed(segments: ReadonlyArray<Segment>): void
  /** Closes the open segment and starts a new one now. */
  split(): void
}

export const makeMinuteStats = (now: () => number = Date.now): MinuteStats => {
  let open = emptySegment(minuteOf(now()))
  let closed: Array<Segment> = []

  const current = (): Segment => {
    const minute = minuteOf(now())
    if (open.minute !== minute) {
      closed.push(open)
      open = emptySegment(minute)
    }
    return open
  }

  const observe = (series: LatencySeries, millis: number) => {
    const buckets = current().latency[series]
    const bucket = bucketOf(millis)
    buckets[bucket] = (buckets[bucket] ?? 0) + 1
  }

  const recorder: StatsRecorder = {
    sessionOpened: (resumed) => {
      const segment = current()
      segment.sessions++
      if (resumed) segment.resumed++
    },
    sessionFailed: () => {
      current().errors++
    },
    deliveryLatency: (millis) => observe("in_app", millis),
    deliveryLatencyOn: (channel, millis) => observe(channel, millis),
    ackLatency: (millis) => observe("ack", millis),
    duplicatePush: () => {
      current().duplicatePushes++
    },
    lost: (count) => {
      current().lost += count
    }
  }

  return {
    recorder,
    unflushed: () => {
      const segment = current()
      return [...closed, segment]
    },
    flushed: (segments) => {
      closed = closed.filter((segment) => !segments.includes(segment))
    },
    split: () => {
      closed.push(open)
      // Segments are keyed by their start: never reuse the open one's, even within a millisecond.
      open = emptySegment(Math.max(now(), open.startedAt + 1))
    }
  }
}
