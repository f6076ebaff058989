/**
 * Cluster-wide delivery stats over a recent window (`GetStats`, `herald
 * stats`): summed over every node, so any node gives the same answer. The
 * window is counted in whole minutes: "1m" is the current partial minute
 * plus the whole previous one (between 60 and 120 s of data); `since` and
 * `until` say exactly what was covered.
 */
import { Schema } from "effect"

export const StatsWindow = Schema.Literals(["1m", "5m", "1h"])
export type StatsWindow = typeof StatsWindow.Type

const Count = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
const Millis = Schema.NullOr(Schema.Finite)
const Ratio = Schema.NullOr(Schema.Finite)

/** Latency in ms from a publish being accepted; percentiles are null without samples (about 4 % resolution). */
export class LatencyStats extends Schema.Class<LatencyStats>("@herald/domain/LatencyStats")({
  count: Count,
  p50: Millis,
  p95: Millis,
  p99: Millis
}) {}

/** Delivery rows of a channel whose last change in the window made them sent, failed (to be retried) or dead. */
export const ChannelDeliveries = Schema.Struct({ sent: Count, failed: Count, dead: Count })

export class DeliveryStats extends Schema.Class<DeliveryStats>("@herald/domain/DeliveryStats")({
  window: StatsWindow,
  /** The start of the oldest minute counted. */
  since: Schema.DateTimeUtcFromString,
  until: Schema.DateTimeUtcFromString,
  /** Nodes that reported in the window. */
  nodes: Count,
  /** Accepted → written to a socket (in_app) or handed to the provider (push, email, digest). */
  latency: Schema.Struct({ in_app: LatencyStats, push: LatencyStats, email: LatencyStats, digest: LatencyStats }),
  /** Accepted → acked by the client. */
  ack: LatencyStats,
  sockets: Schema.Struct({
    /** Authenticated socket sessions begun. */
    sessions: Count,
    /** Sessions that ended in an error. */
    errors: Count,
    /** Sessions that resumed after a disconnect. */
    resumed: Count,
    /** errors / sessions; null without sessions. */
    errorRate: Ratio,
    /** resumed / sessions; null without sessions. */
    reconnectionRate: Ratio
  }),
  /** Pushes sent again for a delivery already sent (the guard trips on any). */
  duplicatePushes: Count,
  /** Accepted notifications found missing from the store. */
  lost: Count,
  deliveries: Schema.Struct({ push: ChannelDeliveries, email: ChannelDeliveries }),
  /** Deliveries that used up their attempts in the window (push and email). */
  deadLetters: Count,
  /** Emails sent in the window, to set against in-app frames written (`inAppDelivered`). */
  emailsSent: Count,
  inAppDelivered: Count
}) {}

/** The longest latency series `GetLatencySeries` answers, in minutes (node stats are kept a little longer). */
export const MaxSeriesMinutes = 180

/** How many minutes a latency series covers: 1 to 180. */
export const SeriesMinutes = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MaxSeriesMinutes })))

/** Per channel latency of one minute: accepted → written (in_app) or handed over (push, email, digest), and → acked. */
export const LatencyChannels = Schema.Struct({
  in_app: LatencyStats,
  push: LatencyStats,
  email: LatencyStats,
  digest: LatencyStats,
  ack: LatencyStats
})

/**
 * One minute of the cluster's delivery latency, summed over every node. A
 * minute without samples has count 0 and null percentiles.
 */
export class LatencyPoint extends Schema.Class<LatencyPoint>("@herald/domain/LatencyPoint")({
  /** The start of the minute. */
  minute: Schema.DateTimeUtcFromString,
  channels: LatencyChannels
}) {}
