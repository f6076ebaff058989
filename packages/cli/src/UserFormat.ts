/**
 * How `herald user U` looks: the `--json` line (the wire encoding of the
 * domain's `UserReport`, with preferences, devices and notifications in the
 * shapes `prefs get`, `devices list` and the RPCs use) and the sections for
 * people. Each notification gets one row per channel, so a missing delivery
 * shows why: off in the preferences or the rollout, no device, no address,
 * waiting for the digest, or dead with its last error.
 */
import type {
  DeliveryReport,
  DigestReport,
  Notification,
  NotificationReport,
  SendReport,
  UserConnections,
  UserReport,
  UserRollout
} from "@herald/domain"
import { DateTime } from "effect"
import { deviceJson, devicesTable, inboxJson, localDateTime, oneLine, preferencesJson, preferencesLines, shortToken, table, truncate } from "./Format.ts"
import { percentageText } from "./RolloutFormat.ts"

const iso = (dt: DateTime.Utc | null) => dt === null ? null : DateTime.formatIso(dt)

const notificationJson = (n: Notification) => ({ ...inboxJson(n), userId: n.userId, idempotencyKey: n.idempotencyKey })

const sendJson = (s: SendReport | DeliveryReport) => ({
  state: s.state,
  attempts: s.attempts,
  lastError: s.lastError,
  sentAt: iso(s.sentAt),
  latencyMs: s.latencyMs
})

const digestJson = (d: DigestReport) => ({
  state: d.state,
  digestId: d.digestId,
  email: d.email === null ? null : sendJson(d.email)
})

const notificationReportJson = (n: NotificationReport) => ({
  notification: notificationJson(n.notification),
  route: { inApp: n.route.inApp, push: n.route.push, email: n.route.email },
  acked: n.acked,
  deliveries: n.deliveries.map((d) => ({ deliveryId: d.deliveryId, channel: d.channel, target: d.target, ...sendJson(d) })),
  digest: n.digest === null ? null : digestJson(n.digest)
})

/** The `--json` line of `herald user`: the whole report, as the server encodes it. */
export const userReportJson = (r: UserReport) => ({
  userId: r.userId,
  known: r.known,
  since: iso(r.since),
  cursors: { last: r.cursors.last, acked: r.cursors.acked },
  preferences: preferencesJson(r.preferences),
  digest: { nextAt: iso(r.digest.nextAt), lastAt: iso(r.digest.lastAt), pending: r.digest.pending },
  devices: r.devices.map(deviceJson),
  rollout: {
    enabled: r.rollout.enabled,
    reason: r.rollout.reason,
    bucket: r.rollout.bucket,
    inFrom: r.rollout.inFrom,
    percentage: r.rollout.percentage,
    killed: r.rollout.killed,
    version: r.rollout.version
  },
  connections: {
    sockets: r.connections.sockets,
    nodes: r.connections.nodes.map((n) => ({ nodeId: n.nodeId, address: n.address, sockets: n.sockets })),
    nodesAnswered: r.connections.nodesAnswered,
    complete: r.connections.complete
  },
  notifications: r.notifications.map(notificationReportJson)
})

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/** `85 ms`, `3.2 s`, `4.5 min`, `2.1 h`: a delivery latency (digests take hours). */
export const latencyText = (ms: number | null): string => {
  if (ms === null) return "-"
  if (ms < 1_000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`
  return `${(ms / 3_600_000).toFixed(1)} h`
}

/** Why the flag has the user in or out, in one line. */
export const rolloutLine = (r: UserRollout): string => {
  const onOff = r.enabled ? "on" : "off"
  const bucket = `bucket ${r.bucket}, in from ${percentageText(r.inFrom)}`
  switch (r.reason) {
    case "killed":
      return `real-time ${onOff}: the kill switch is on (${bucket})`
    case "denied":
      return `real-time ${onOff}: on the deny list (${bucket})`
    case "allowed":
      return `real-time ${onOff}: on the allow list (${bucket})`
    case "percentage":
      return `real-time ${onOff}: ${bucket}; the rollout is at ${percentageText(r.percentage)}`
    case "provider":
      return `real-time ${onOff}: as the flag provider answered (${bucket})`
  }
}

/** How many sockets, on which nodes, and whether every node answered. */
export const connectionsLines = (c: UserConnections): ReadonlyArray<string> => [
  c.sockets === 0
    ? `no open sockets (${plural(c.nodesAnswered, "node")} answered)`
    : `${plural(c.sockets, "open socket")} on ${plural(c.nodes.length, "node")} (${plural(c.nodesAnswered, "node")} answered)`,
  ...(c.nodes.length === 0 ? [] : table(["NODE", "ADDRESS", "SOCKETS"], c.nodes.map((n) => [n.nodeId, n.address, String(n.sockets)]))),
  ...(c.complete ? [] : ["some nodes may be missing: the others could not be asked, or did not answer in time"])
]

const ChannelHeader = ["CHANNEL", "STATE", "ATTEMPTS", "LATENCY", "TARGET", "LAST ERROR"]

const sendCells = (s: SendReport | DeliveryReport) => [
  s.state,
  String(s.attempts),
  latencyText(s.latencyMs),
  s.lastError === null ? "" : truncate(oneLine(s.lastError), 60)
]

const deliveryRow = (d: DeliveryReport) => {
  const [state = "", attempts = "", latency = "", error = ""] = sendCells(d)
  return [d.channel, state, attempts, latency, shortToken(d.target), error]
}

const digestRow = (d: DigestReport) => {
  switch (d.state) {
    case "pending":
      return ["digest", "waiting", "", "", "the next digest", ""]
    case "skipped":
      return ["digest", "skipped", "", "", "read in the app first, or no address", ""]
    case "included": {
      if (d.email === null) return ["digest", "built", "", "", `digest ${d.digestId ?? "?"}`, ""]
      const [state = "", attempts = "", latency = "", error = ""] = sendCells(d.email)
      return ["digest", state, attempts, latency, `digest ${d.digestId ?? "?"}`, error]
    }
  }
}

/** One row per channel: in-app, each push (or why none), each email or the digest (or why none). */
export const channelRows = (n: NotificationReport): ReadonlyArray<ReadonlyArray<string>> => {
  const none = (channel: string, why: string) => [channel, why, "", "", "", ""]
  const pushes = n.deliveries.filter((d) => d.channel === "push")
  const emails = n.deliveries.filter((d) => d.channel === "email")
  const rows = [none("in-app", !n.route.inApp ? "off" : n.acked ? "acked" : "not acked")]
  if (pushes.length > 0) rows.push(...pushes.map(deliveryRow))
  else rows.push(none("push", n.route.push ? "no device" : "off"))
  if (emails.length > 0) rows.push(...emails.map(deliveryRow))
  if (n.digest !== null) rows.push(digestRow(n.digest))
  if (emails.length === 0 && n.digest === null) {
    rows.push(none("email", n.route.email === "immediate" ? "no address" : n.route.email === "digest" ? "digest" : "off"))
  }
  return rows
}

/** Each notification's line, then its channel rows; the rows of all notifications aligned as one table. */
export const notificationsLines = (items: ReadonlyArray<NotificationReport>): ReadonlyArray<string> => {
  if (items.length === 0) return ["none"]
  const perItem = items.map(channelRows)
  const [header = "", ...rows] = table(ChannelHeader, perItem.flat())
  const indent = "    "
  let next = 0
  return [
    `${indent}${header}`,
    ...items.flatMap((item, index) => {
      const own = rows.slice(next, next + (perItem[index]?.length ?? 0))
      next += own.length
      return [headline(item.notification), ...own.map((row) => `${indent}${row}`)]
    })
  ]
}

const headline = (n: Notification) =>
  `#${n.cursor}  ${localDateTime(n.createdAt)}  ${n.kind}  ${truncate(oneLine(n.title), 60)}  (${n.readAt === null ? "unread" : "read"})`

const section = (title: string, lines: ReadonlyArray<string>) => ["", `${title}:`, ...lines.map((line) => `  ${line}`)]

/** The report for people: a summary line, then preferences, digest, devices, rollout, connections and notifications. */
export const userReportLines = (r: UserReport): ReadonlyArray<string> => {
  const summary = r.known
    ? `user ${r.userId}: known since ${r.since === null ? "?" : localDateTime(r.since)}, ` +
      `${plural(r.cursors.last, "notification")}, acked up to cursor ${r.cursors.acked}`
    : `user ${r.userId}: unknown to Herald (nothing was published to or set for them); the defaults apply`
  const digest = [
    r.digest.nextAt === null && r.digest.pending === 0
      ? "next: nothing waiting"
      : `next: ${r.digest.nextAt === null ? "not scheduled" : localDateTime(r.digest.nextAt)} (${plural(r.digest.pending, "item")} pending)`,
    `last: ${r.digest.lastAt === null ? "never" : localDateTime(r.digest.lastAt)}`
  ]
  const shown = r.notifications.length < r.cursors.last ? `newest ${r.notifications.length} of ${r.cursors.last}` : "all"
  return [
    summary,
    ...section("preferences", preferencesLines(r.preferences)),
    ...section("digest", digest),
    ...section("devices", r.devices.length === 0 ? ["none registered: pushes have nowhere to go"] : devicesTable(r.devices)),
    ...section("rollout", [rolloutLine(r.rollout)]),
    ...section("connections", connectionsLines(r.connections)),
    ...section(`notifications (${shown}, newest first)`, notificationsLines(r.notifications))
  ]
}
