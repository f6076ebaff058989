/**
 * Where the gateway, the delivery worker and the publishers record what the
 * delivery stats and the rollout guard count. Every method is synchronous
 * and cheap: they are called on the hot path of every frame and send.
 */

/** The channels whose delivery latency is recorded (publish accepted → handed to the channel). */
export const DeliveryChannels = ["in_app", "push", "email", "digest"] as const
export type DeliveryChannel = (typeof DeliveryChannels)[number]

/** Every histogram kept: the delivery channels, and `ack` (publish accepted → the client acked it). */
export const LatencySeries = [...DeliveryChannels, "ack"] as const
export type LatencySeries = (typeof LatencySeries)[number]

export interface StatsRecorder {
  /** An authenticated socket session began; `resumed` when it resumed after a disconnect. */
  sessionOpened(resumed: boolean): void
  /** A session ended in an error (at most once per session). */
  sessionFailed(): void
  /** An in-app frame was written to a socket, `millis` after the publish was accepted. */
  deliveryLatency(millis: number): void
  /** A delivery was handed to `channel`, `millis` after the publish was accepted. */
  deliveryLatencyOn(channel: DeliveryChannel, millis: number): void
  /** A client acked a notification, `millis` after its publish was accepted. */
  ackLatency(millis: number): void
  /** A push was sent again for a delivery already sent. */
  duplicatePush(): void
  /** Accepted notifications found missing from the store. */
  lost(count: number): void
}
