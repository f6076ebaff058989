/**
 * Herald's own metrics (effect/Metric). Socket-side ones are updated from
 * socket callbacks with `updateUnsafe`, so they cost no fiber per frame.
 */
import { Metric } from "effect"

export const notificationsStored = Metric.counter("herald_notifications_stored_total", {
  description: "Notifications durably stored",
  incremental: true
})

export const duplicatesSuppressed = Metric.counter("herald_publish_duplicates_total", {
  description: "Publishes answered as duplicates of an earlier idempotency key (nothing delivered)",
  incremental: true
})

export const socketsLive = Metric.gauge("herald_sockets_live", {
  description: "Authenticated sockets open on this node"
})

export const socketConnects = Metric.counter("herald_socket_connects_total", {
  description: "Sockets that authenticated",
  incremental: true
})

export const socketAuthFailures = Metric.counter("herald_socket_auth_failures_total", {
  description: "Sockets refused for a bad or expired token, or closed for not authenticating in time",
  incremental: true
})

export const inAppDeliveryLatency = Metric.histogram("herald_in_app_delivery_latency_ms", {
  description: "Publish accepted (stored) → frame written to the user's socket, in milliseconds",
  boundaries: Metric.exponentialBoundaries({ start: 0.5, factor: 2, count: 16 })
})

export const rolloutGuardTrips = Metric.counter("herald_rollout_guard_trips_total", {
  description: "Times the rollout guard tripped the kill switch (attribute: trigger)",
  incremental: true
})

export const rolloutEnabled = Metric.gauge("herald_rollout_enabled", {
  description: "1 while real-time notifications are on (kill switch off), 0 while killed"
})

const latencyBoundaries = Metric.exponentialBoundaries({ start: 0.5, factor: 2, count: 20 })

export const inAppAckLatency = Metric.histogram("herald_in_app_ack_latency_ms", {
  description: "Publish accepted (stored) → the client acked the frame, in milliseconds",
  boundaries: latencyBoundaries
})

export const inAppDelivered = Metric.counter("herald_in_app_delivered_total", {
  description: "Notification frames written to sockets live (not counting catch-up replays)",
  incremental: true
})

export const socketErrors = Metric.counter("herald_socket_errors_total", {
  description: "Authenticated socket sessions that ended in an error (dropped without a close frame, heartbeat timeout, storage failure)",
  incremental: true
})

export const socketReconnects = Metric.counter("herald_socket_reconnects_total", {
  description: "Sockets that authenticated with a resume cursor (a client coming back)",
  incremental: true
})

export const deliveriesRecorded = Metric.counter("herald_deliveries_total", {
  description: "Push and email send attempts by outcome (attributes: channel, outcome = sent|retry|failed|dead|discarded)",
  incremental: true
})

export const deliveryLatency = Metric.histogram("herald_delivery_latency_ms", {
  description: "Notification stored → push or email accepted by the provider, in milliseconds (attribute: channel)",
  boundaries: latencyBoundaries
})

export const emailsSent = Metric.counter("herald_emails_sent_total", {
  description: "Emails the provider accepted (attribute: type = immediate|digest)",
  incremental: true
})

export const replayFramesWritten = Metric.counter("herald_replay_frames_written_total", {
  description: "Notification frames an operator's replay wrote to live sockets",
  incremental: true
})

export const replayed = Metric.counter("herald_replayed_total", {
  description: "Items an operator's replay acted on, by channel and outcome (requeued, forced, delivered, skipped)",
  incremental: true
})

export const publishBatchRows = Metric.histogram("herald_publish_batch_rows", {
  description: "Notification rows stored per insert statement (the publishes of many users share one)",
  boundaries: Metric.exponentialBoundaries({ start: 1, factor: 2, count: 12 })
})

export const publishPreferencesStale = Metric.counter("herald_publish_preferences_stale_total", {
  description: "Publishes routed by preferences that had changed since this node read them (on another node, usually): read again and stored by the new ones",
  incremental: true
})

const rateLimitedCounter = Metric.counter("herald_rate_limited_total", {
  description: "Calls and frames refused by a rate or size limit (attribute: limit = rpc|connect|frames|sockets_per_user|sockets_per_ip|slow_consumer|origin)",
  incremental: true
})

/** One refusal by the limit named. */
export const rateLimited = (limit: string) => Metric.update(Metric.withAttributes(rateLimitedCounter, { limit }), 1)

/** The same, from socket callbacks. */
export const rateLimitedUnsafe = (limit: string, context: Parameters<typeof rateLimitedCounter.updateUnsafe>[1]) =>
  Metric.withAttributes(rateLimitedCounter, { limit }).updateUnsafe(1, context)

const rateLimitFallbackCounter = Metric.counter("herald_rate_limit_fallbacks_total", {
  description: "Rate-limit checks made against the node's own buckets because the shared (Redis) store failed or was slow (attribute: limit = rpc|connect)",
  incremental: true
})

/** One check the shared store could not answer in time. */
export const rateLimitFallback = (limit: string) => Metric.update(Metric.withAttributes(rateLimitFallbackCounter, { limit }), 1)
