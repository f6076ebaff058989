/**
 * How the cluster's delivery stats look on the command line (`herald
 * stats`): the `--json` line (the wire encoding of the domain's
 * `DeliveryStats`) and the lines for people.
 */
import type { DeliveryStats, LatencyStats } from "@herald/domain"
import { DateTime } from "effect"
import { localDateTime, table } from "./Format.ts"

const latencyJson = (l: LatencyStats) => ({ count: l.count, p50: l.p50, p95: l.p95, p99: l.p99 })

/** The `--json` line of `herald stats`: the whole answer, as the server encodes it. */
export const statsJson = (s: DeliveryStats) => ({
  window: s.window,
  since: DateTime.formatIso(s.since),
  until: DateTime.formatIso(s.until),
  nodes: s.nodes,
  latency: {
    in_app: latencyJson(s.latency.in_app),
    push: latencyJson(s.latency.push),
    email: latencyJson(s.latency.email),
    digest: latencyJson(s.latency.digest)
  },
  ack: latencyJson(s.ack),
  sockets: {
    sessions: s.sockets.sessions,
    errors: s.sockets.errors,
    resumed: s.sockets.resumed,
    errorRate: s.sockets.errorRate,
    reconnectionRate: s.sockets.reconnectionRate
  },
  duplicatePushes: s.duplicatePushes,
  lost: s.lost,
  deliveries: {
    push: { sent: s.deliveries.push.sent, failed: s.deliveries.push.failed, dead: s.deliveries.push.dead },
    email: { sent: s.deliveries.email.sent, failed: s.deliveries.email.failed, dead: s.deliveries.email.dead }
  },
  deadLetters: s.deadLetters,
  emailsSent: s.emailsSent,
  inAppDelivered: s.inAppDelivered
})

// Percentiles are bucket bounds (about 4 % apart): more than one decimal would be false precision.
const millisText = (ms: number | null) => ms === null ? "-" : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`

const ratioText = (ratio: number | null) => ratio === null ? "-" : `${String(Number((ratio * 100).toFixed(3)))}%`

/** The stats for people: what was covered, latency per channel, then sockets and deliveries. */
export const statsLines = (s: DeliveryStats): ReadonlyArray<string> => {
  const latencies: ReadonlyArray<readonly [string, LatencyStats]> = [
    ["in_app", s.latency.in_app],
    ["push", s.latency.push],
    ["email", s.latency.email],
    ["digest", s.latency.digest],
    ["ack", s.ack]
  ]
  return [
    `window:       ${s.window} (whole minutes: ${localDateTime(s.since)} to ${localDateTime(s.until)}), ${s.nodes} node${s.nodes === 1 ? "" : "s"} reporting`,
    "latency from publish accepted:",
    ...table(
      ["CHANNEL", "COUNT", "P50", "P95", "P99"],
      latencies.map(([name, l]) => [name, String(l.count), millisText(l.p50), millisText(l.p95), millisText(l.p99)])
    ).map((line) => `  ${line}`),
    `sockets:      ${s.sockets.sessions} sessions, ${s.sockets.errors} errors (${ratioText(s.sockets.errorRate)}), ` +
    `${s.sockets.resumed} resumed (${ratioText(s.sockets.reconnectionRate)})`,
    `push:         ${s.deliveries.push.sent} sent, ${s.deliveries.push.failed} failed, ${s.deliveries.push.dead} dead`,
    `email:        ${s.deliveries.email.sent} sent, ${s.deliveries.email.failed} failed, ${s.deliveries.email.dead} dead`,
    `dead letters: ${s.deadLetters}`,
    `emails sent vs in-app delivered: ${s.emailsSent} / ${s.inAppDelivered}`,
    `duplicate pushes: ${s.duplicatePushes}, lost notifications: ${s.lost}`
  ]
}
