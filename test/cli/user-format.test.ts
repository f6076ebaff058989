/**
 * How `herald user` shows a report, checked on the formatting functions
 * directly, for what the end-to-end test's server does not produce: an
 * unknown user, every rollout reason, sockets on several nodes and an
 * incomplete answer, a device-less push, a missing address, a skipped and a
 * sent digest, long latencies; and that the `--json` shape is exactly the
 * wire encoding of the domain's `UserReport`.
 */
import {
  channelRows,
  connectionsLines,
  latencyText,
  notificationsLines,
  rolloutLine,
  userReportJson,
  userReportLines
} from "@herald/cli/src/UserFormat.ts"
import { NotificationReport, UserConnections, UserReport, UserRollout } from "@herald/domain"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const send = (fields: object = {}) => ({ state: "sent", attempts: 1, lastError: null, sentAt: "2026-11-24T08:00:01.000Z", latencyMs: 85, ...fields })

const notificationFields = (cursor: number, fields: object = {}) => ({
  notification: {
    id: `0190f3a4-5b6c-7d8e-9f01-23456789ab${String(cursor).padStart(2, "0")}`,
    userId: "alice",
    cursor,
    kind: "mention",
    title: `notification ${cursor}`,
    body: null,
    link: null,
    actor: null,
    idempotencyKey: null,
    createdAt: "2026-11-24T08:00:00.000Z",
    readAt: null
  },
  route: { inApp: true, push: true, email: "off" },
  acked: false,
  deliveries: [],
  digest: null,
  ...fields
})

const item = (cursor: number, fields: object = {}) =>
  Schema.decodeUnknownSync(NotificationReport)(notificationFields(cursor, fields))

const rollout = (fields: object = {}) =>
  Schema.decodeUnknownSync(UserRollout)({
    enabled: true,
    reason: "percentage",
    bucket: 1571,
    inFrom: 15.72,
    percentage: 25,
    killed: false,
    version: 3,
    ...fields
  })

const connections = (fields: object = {}) =>
  Schema.decodeUnknownSync(UserConnections)({ sockets: 0, nodes: [], nodesAnswered: 1, complete: true, ...fields })

const kind = { inApp: true, push: true, email: "digest" }
const reportFields = {
  userId: "alice",
  known: true,
  since: "2026-11-01T10:00:00.000Z",
  cursors: { last: 12, acked: 10 },
  preferences: {
    userId: "alice",
    existingBeforeRollout: false,
    emailAddress: "alice@example.com",
    kinds: { mention: kind, assignment: kind, status_update: kind },
    digest: { schedule: { _tag: "weekly", weekday: "monday", at: "08:30" }, timeZone: "Europe/London", includeRead: false }
  },
  digest: { nextAt: "2026-11-30T08:30:00.000Z", lastAt: null, pending: 2 },
  devices: [{ userId: "alice", token: `fcm-${"x".repeat(150)}-end12345`, platform: "ios", createdAt: "2026-11-02T10:00:00.000Z" }],
  rollout: { enabled: true, reason: "allowed", bucket: 42, inFrom: 0.43, percentage: 0, killed: false, version: 9 },
  connections: {
    sockets: 3,
    nodes: [{ nodeId: "10.0.0.5:34431", address: "10.0.0.5:8080", sockets: 2 }, { nodeId: "10.0.0.6:34431", address: "10.0.0.6:8080", sockets: 1 }],
    nodesAnswered: 3,
    complete: true
  },
  notifications: [
    notificationFields(12, {
      route: { inApp: true, push: true, email: "digest" },
      acked: false,
      deliveries: [{ deliveryId: 40, channel: "push", target: "tok-1", ...send({ state: "dead", attempts: 8, lastError: "UNREGISTERED", sentAt: null, latencyMs: null }) }],
      digest: { state: "included", digestId: 4, email: send({ latencyMs: 5_400_000 }) }
    }),
    notificationFields(11, { acked: true, deliveries: [{ deliveryId: 39, channel: "push", target: "tok-1", ...send() }] })
  ]
}
const report = () => Schema.decodeUnknownSync(UserReport)(reportFields)

describe("userReportJson", () => {
  it("is the wire encoding of the report", () => {
    const r = report()
    expect(userReportJson(r)).toEqual(Schema.encodeSync(UserReport)(r))
    expect(userReportJson(r)).toEqual(reportFields)
  })
})

describe("latencyText", () => {
  it("reads in the unit that fits, from milliseconds to hours", () => {
    expect([null, 0, 85, 999, 3_200, 270_000, 5_400_000].map(latencyText)).toEqual(["-", "0 ms", "85 ms", "999 ms", "3.2 s", "4.5 min", "1.5 h"])
  })
})

describe("rolloutLine", () => {
  it("says on or off and which rule decided, with the bucket", () => {
    expect(rolloutLine(rollout())).toBe("real-time on: bucket 1571, in from 15.72%; the rollout is at 25%")
    expect(rolloutLine(rollout({ enabled: false, reason: "killed", killed: true }))).toBe("real-time off: the kill switch is on (bucket 1571, in from 15.72%)")
    expect(rolloutLine(rollout({ enabled: false, reason: "denied" }))).toBe("real-time off: on the deny list (bucket 1571, in from 15.72%)")
    expect(rolloutLine(rollout({ reason: "allowed" }))).toBe("real-time on: on the allow list (bucket 1571, in from 15.72%)")
    expect(rolloutLine(rollout({ enabled: false, reason: "provider" }))).toBe("real-time off: as the flag provider answered (bucket 1571, in from 15.72%)")
  })
})

describe("connectionsLines", () => {
  it("counts the sockets and lists the nodes holding them", () => {
    expect(connectionsLines(report().connections)).toEqual([
      "3 open sockets on 2 nodes (3 nodes answered)",
      "NODE            ADDRESS        SOCKETS",
      "10.0.0.5:34431  10.0.0.5:8080  2",
      "10.0.0.6:34431  10.0.0.6:8080  1"
    ])
  })

  it("says when there are none, and when some nodes may be missing", () => {
    expect(connectionsLines(connections())).toEqual(["no open sockets (1 node answered)"])
    expect(connectionsLines(connections({ nodesAnswered: 1, complete: false }))).toEqual([
      "no open sockets (1 node answered)",
      "some nodes may be missing: the others could not be asked, or did not answer in time"
    ])
  })
})

describe("channelRows", () => {
  const states = (n: NotificationReport) => channelRows(n).map((row) => `${row[0]} ${row[1]}`)

  it("says why a channel has no delivery", () => {
    expect(states(item(1, { route: { inApp: false, push: true, email: "immediate" } }))).toEqual(["in-app off", "push no device", "email no address"])
    expect(states(item(1, { route: { inApp: true, push: false, email: "off" }, acked: true }))).toEqual(["in-app acked", "push off", "email off"])
  })

  it("shows the digest's part: waiting, skipped, or the digest email's send", () => {
    const digest = (d: object) => channelRows(item(1, { route: { inApp: true, push: false, email: "digest" }, digest: d })).at(-1)
    expect(digest({ state: "pending", digestId: null, email: null })).toEqual(["digest", "waiting", "", "", "the next digest", ""])
    expect(digest({ state: "skipped", digestId: null, email: null })?.slice(0, 2)).toEqual(["digest", "skipped"])
    expect(digest({ state: "included", digestId: 4, email: send({ state: "failed", attempts: 2, lastError: "throttled", sentAt: null, latencyMs: null }) }))
      .toEqual(["digest", "failed", "2", "-", "digest 4", "throttled"])
  })

  it("lists every push and email delivery, long targets shortened", () => {
    const rows = channelRows(item(1, {
      route: { inApp: true, push: true, email: "immediate" },
      deliveries: [
        { deliveryId: 1, channel: "push", target: `fcm-${"x".repeat(150)}-end12345`, ...send() },
        { deliveryId: 2, channel: "push", target: "tok-2", ...send({ state: "pending", attempts: 0, sentAt: null, latencyMs: null }) },
        { deliveryId: 3, channel: "email", target: "alice@example.com", ...send({ latencyMs: 3_200 }) }
      ]
    }))
    expect(rows).toEqual([
      ["in-app", "not acked", "", "", "", ""],
      ["push", "sent", "1", "85 ms", "fcm-xxxxxxxxxxxxxxxxxxxx…end12345", ""],
      ["push", "pending", "0", "-", "tok-2", ""],
      ["email", "sent", "1", "3.2 s", "alice@example.com", ""]
    ])
  })
})

describe("notificationsLines", () => {
  it("puts each notification's line above its channel rows, the rows aligned as one table", () => {
    const lines = notificationsLines(report().notifications)
    expect(lines[0]).toMatch(/^ {4}CHANNEL {2}STATE +ATTEMPTS {2}LATENCY {2}TARGET +LAST ERROR$/)
    expect(lines[1]).toMatch(/^#12 {2}.+ {2}mention {2}notification 12 {2}\(unread\)$/)
    expect(lines.filter((line) => line.startsWith("#")).length).toBe(2)
    const stateColumn = (lines[0] ?? "").indexOf("STATE")
    const rows = lines.filter((line) => line.startsWith("    ")).slice(1)
    expect(rows.map((row) => row.slice(4, 11).trim())).toEqual(["in-app", "push", "digest", "in-app", "push", "email"])
    for (const row of rows) expect(row[stateColumn - 1]).toBe(" ")
    expect(lines.find((line) => line.includes("digest 4"))).toMatch(/sent +1 +1\.5 h +digest 4$/)
    expect(lines.find((line) => line.includes("UNREGISTERED"))).toMatch(/dead +8 +- +tok-1 +UNREGISTERED$/)
  })

  it("says none when there are none", () => {
    expect(notificationsLines([])).toEqual(["none"])
  })
})

describe("userReportLines", () => {
  it("has a summary line and every section", () => {
    const lines = userReportLines(report())
    expect(lines[0]).toMatch(/^user alice: known since .+, 12 notifications, acked up to cursor 10$/)
    for (const title of ["preferences:", "digest:", "devices:", "rollout:", "connections:", "notifications (newest 2 of 12, newest first):"]) {
      expect(lines).toContain(title)
    }
    expect(lines).toContain("  digest: weekly on monday at 08:30 Europe/London, read items left out")
    expect(lines.some((line) => /^ {2}next: .+ \(2 items pending\)$/.test(line))).toBe(true)
    expect(lines).toContain("  last: never")
    expect(lines).toContain("  real-time on: on the allow list (bucket 42, in from 0.43%)")
    expect(lines.some((line) => line.includes("fcm-xxxxxxxxxxxxxxxxxxxx…end12345"))).toBe(true)
  })

  it("says when Herald does not know the user and when there are no devices", () => {
    const unknown = Schema.decodeUnknownSync(UserReport)({
      ...reportFields,
      known: false,
      since: null,
      cursors: { last: 0, acked: 0 },
      digest: { nextAt: null, lastAt: null, pending: 0 },
      devices: [],
      notifications: []
    })
    const lines = userReportLines(unknown)
    expect(lines[0]).toBe("user alice: unknown to Herald (nothing was published to or set for them); the defaults apply")
    expect(lines).toContain("  none registered: pushes have nowhere to go")
    expect(lines).toContain("  next: nothing waiting")
    expect(lines).toContain("notifications (all, newest first):")
    expect(lines.at(-1)).toBe("  none")
  })
})
