/**
 * How `herald rollout` shows the flag, checked on the formatting functions
 * directly: measured values (which the end-to-end test's idle server never
 * has), failing criteria, long lists, and that the `--json` shapes are
 * exactly the wire encoding of the domain's schemas.
 */
import {
  measureText,
  percentageText,
  rolloutChangeJson,
  rolloutHistoryTable,
  rolloutStateJson,
  rolloutStateLine,
  rolloutStatusJson,
  rolloutStatusLines,
  windowText
} from "@herald/cli/src/RolloutFormat.ts"
import { RolloutChange, RolloutState, RolloutStatus } from "@herald/domain"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const stateFields = (fields: Partial<typeof RolloutState.Encoded> = {}): typeof RolloutState.Encoded => ({
  flag: "realtime_notifications",
  percentage: 25,
  killed: false,
  allow: ["alice"],
  deny: [],
  version: 7,
  updatedAt: "2026-11-24T08:00:00.000Z",
  updatedBy: "ops@box",
  ...fields
})

const state = (fields: Partial<typeof RolloutState.Encoded> = {}) =>
  Schema.decodeUnknownSync(RolloutState)(stateFields(fields))

const statusFields = {
  state: stateFields(),
  nodeVersion: 7,
  users: { known: 1200, enabled: 301 },
  provider: "herald",
  guard: {
    windowSeconds: 300,
    triggers: [
      { name: "socket_error_rate", description: "sockets that ended in an error", value: 0.0234, threshold: 0.01, unit: "ratio", status: "fail" },
      { name: "delivery_p95", description: "in-app delivery latency", value: 123.456, threshold: 2000, unit: "ms", status: "pass" },
      { name: "data_loss", description: "accepted notifications missing", value: null, threshold: 0, unit: "count", status: "no-data" }
    ],
    exitCriteria: [
      { name: "reconnect_rate", description: "sessions that resumed", value: 0.07, threshold: 0.02, unit: "ratio", status: "fail" }
    ]
  }
}

const status = (fields: Partial<typeof statusFields> = {}) =>
  Schema.decodeUnknownSync(RolloutStatus)({ ...statusFields, ...fields })

const change = (fields: Partial<typeof RolloutChange.Encoded>) =>
  Schema.decodeUnknownSync(RolloutChange)({
    id: 3,
    at: "2026-11-24T09:00:00.000Z",
    actor: "ops@box",
    action: "set",
    userId: null,
    reason: null,
    from: stateFields({ percentage: 5, version: 2 }),
    to: stateFields({ percentage: 25, version: 3 }),
    ...fields
  })

describe("measureText", () => {
  it("shows ratios as percentages, milliseconds as ms and counts as numbers, without float noise", () => {
    expect(measureText(0.01, "ratio")).toBe("1%")
    expect(measureText(0.07, "ratio")).toBe("7%")
    expect(measureText(0.0234, "ratio")).toBe("2.34%")
    expect(measureText(0.001, "ratio")).toBe("0.1%")
    expect(measureText(-0.0005, "ratio")).toBe("-0.05%")
    expect(measureText(123.456, "ms")).toBe("123.5 ms")
    expect(measureText(2000, "ms")).toBe("2000 ms")
    expect(measureText(3, "count")).toBe("3")
    expect(measureText(1.5, "req/s")).toBe("1.5 req/s")
  })
})

describe("percentageText and windowText", () => {
  it("keeps the two decimals a percentage has, and names the window in its largest whole unit", () => {
    expect(percentageText(100)).toBe("100%")
    expect(percentageText(12.5)).toBe("12.5%")
    expect(percentageText(0.01)).toBe("0.01%")
    expect(windowText(300)).toBe("5 min")
    expect(windowText(7200)).toBe("2 h")
    expect(windowText(90)).toBe("90 s")
  })
})

describe("the --json shapes", () => {
  it("are the wire encoding of RolloutStatus, RolloutState and RolloutChange", () => {
    const s = status()
    expect(rolloutStatusJson(s)).toEqual(Schema.encodeSync(RolloutStatus)(s))
    expect(rolloutStateJson(s.state)).toEqual(Schema.encodeSync(RolloutState)(s.state))
    const c = change({ action: "allow", userId: "bob", reason: "beta" })
    expect(rolloutChangeJson(c)).toEqual(Schema.encodeSync(RolloutChange)(c))
  })
})

describe("rolloutStateLine", () => {
  it("says the percentage, the kill switch and the lists, long lists cut after five names", () => {
    expect(rolloutStateLine(state())).toBe("25%, kill switch off, allowed: alice, denied: none (version 7)")
    const crowded = state({ killed: true, allow: [], deny: ["u1", "u2", "u3", "u4", "u5", "u6", "u7"] })
    expect(rolloutStateLine(crowded)).toBe(
      "25%, kill switch ON, allowed: none, denied: u1, u2, u3, u4, u5 and 2 more (version 7)"
    )
  })
})

describe("rolloutStatusLines", () => {
  it("shows the settings, users in, then every trigger and exit criterion with value, threshold and status", () => {
    const out = rolloutStatusLines(status())
    expect(out).toContain("percentage:   25%")
    expect(out).toContain("kill switch:  off")
    expect(out).toContain("users in:     301 of 1200 known")
    expect(out).toContain("flag:         realtime_notifications (provider herald)")
    expect(out.some((line) => /^last change: +\S+ \S+ by ops@box \(version 7\)$/.test(line))).toBe(true)
    expect(out).toContain("rollback triggers over the last 5 min (a fail trips the kill switch):")
    expect(out.find((line) => line.includes("socket_error_rate"))).toMatch(
      /^ +socket_error_rate +2\.34% +1% +fail +sockets that ended in an error$/
    )
    expect(out.find((line) => line.includes("delivery_p95"))).toMatch(/^ +delivery_p95 +123\.5 ms +2000 ms +pass /)
    expect(out.find((line) => line.includes("data_loss"))).toMatch(/^ +data_loss +- +0 +no-data /)
    expect(out.find((line) => line.includes("reconnect_rate"))).toMatch(/^ +reconnect_rate +7% +2% +fail /)
  })

  it("says when the answering node has not caught up with the latest change yet", () => {
    const out = rolloutStatusLines(status({ nodeVersion: 6 }))
    expect(out.some((line) => line.endsWith("(version 7; the answering node still applies 6)"))).toBe(true)
  })
})

describe("rolloutHistoryTable", () => {
  it("has a row per change, in the order given: time, actor, action and user, before → after, reason", () => {
    const out = rolloutHistoryTable([
      change({ reason: "phase 2" }),
      change({ id: 4, action: "kill", actor: "guard", reason: "socket_error_rate\n0.02 > 0.01", to: stateFields({ killed: true }) }),
      change({ id: 5, action: "deny", userId: "bob", to: stateFields({ deny: ["bob"] }) }),
      change({ id: 6, action: "unallow", userId: "alice", from: stateFields(), to: stateFields({ allow: [] }) })
    ])
    expect(out[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+CHANGE\s+REASON$/)
    expect(out[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+ops@box\s+set\s+5% → 25%\s+phase 2$/)
    expect(out[2]).toMatch(/\sguard\s+kill\s+killed: no → yes\s+socket_error_rate 0\.02 > 0\.01$/)
    expect(out[3]).toMatch(/\sdeny bob\s+denied: no → yes\s+-$/)
    expect(out[4]).toMatch(/\sunallow alice\s+allowed: yes → no\s+-$/)
    expect(out[3]!.indexOf("denied")).toBe(out[0]!.indexOf("CHANGE"))
  })
})
