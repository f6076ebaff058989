/**
 * How `herald digest preview` and the digest part of `herald prefs get` look,
 * checked on the formatting functions directly (no server).
 */
import {
  digestPreviewJson,
  digestPreviewLines,
  digestSettingsJson,
  digestSettingsText,
  itemCount,
  preferencesJson,
  preferencesLines
} from "@herald/cli/src/Format.ts"
import { AdminRpcs, DigestSettings, type NotificationKind, Preferences } from "@herald/domain"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const notification = (cursor: number, kind: NotificationKind, title: string, readAt: string | null = null) => ({
  id: `0190f3a4-5b6c-7d8e-9f01-${String(cursor).padStart(12, "0")}`,
  userId: "alice",
  cursor,
  kind,
  title,
  body: null,
  link: null,
  actor: null,
  idempotencyKey: null,
  createdAt: `2026-11-24T08:${String(cursor).padStart(2, "0")}:00.000Z`,
  readAt
})

const preview = (fields: Partial<typeof AdminRpcs.DigestPreview.Encoded> = {}) =>
  Schema.decodeUnknownSync(AdminRpcs.DigestPreview)({
    userId: "alice",
    emailAddress: "alice@example.com",
    dueAt: "2026-11-24T09:00:00.000Z",
    items: [
      notification(5, "status_update", "Build passed"),
      notification(4, "mention", "Carol mentioned you", "2026-11-24T08:30:00.000Z"),
      notification(3, "assignment", "You were assigned HER-12"),
      notification(2, "mention", "Bob mentioned you"),
      notification(1, "status_update", "Build\nfailed")
    ],
    ...fields
  })

const settings = (fields: Partial<typeof DigestSettings.Encoded> = {}) =>
  Schema.decodeUnknownSync(DigestSettings)({
    schedule: { _tag: "daily", at: "09:00" },
    timeZone: "Europe/London",
    includeRead: false,
    ...fields
  })

describe("digestPreviewJson", () => {
  it("has userId, emailAddress, an ISO dueAt and the items as herald inbox --json prints them, in server order", () => {
    const json = digestPreviewJson(preview())
    expect(Object.keys(json)).toEqual(["userId", "emailAddress", "dueAt", "items"])
    expect(json.userId).toBe("alice")
    expect(json.emailAddress).toBe("alice@example.com")
    expect(json.dueAt).toBe("2026-11-24T09:00:00.000Z")
    expect(json.items.map((i) => i.cursor)).toEqual([5, 4, 3, 2, 1])
    expect(json.items[1]).toEqual({
      id: "0190f3a4-5b6c-7d8e-9f01-000000000004",
      cursor: 4,
      kind: "mention",
      title: "Carol mentioned you",
      body: null,
      link: null,
      actor: null,
      createdAt: "2026-11-24T08:04:00.000Z",
      readAt: "2026-11-24T08:30:00.000Z"
    })
  })

  it("keeps a null dueAt and email address as null", () => {
    const json = digestPreviewJson(preview({ dueAt: null, emailAddress: null, items: [] }))
    expect(json).toEqual({ userId: "alice", emailAddress: null, dueAt: null, items: [] })
  })
})

describe("digestPreviewLines", () => {
  it("says who and when, then groups by kind in kind order, newest first, with counts", () => {
    const out = digestPreviewLines(preview())
    expect(out[0]).toMatch(/^digest for alice \(to alice@example\.com\), due \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    expect(out.slice(1).filter((line) => !line.startsWith("  "))).toEqual([
      "mention (2)",
      "assignment (1)",
      "status_update (2)"
    ])
    expect(out[2]).toMatch(/^ {2}\S+ \S+\s+read\s+Carol mentioned you$/)
    expect(out[3]).toMatch(/^ {2}\S+ \S+\s+unread\s+Bob mentioned you$/)
    expect(out[5]).toMatch(/You were assigned HER-12$/)
    expect(out[7]).toMatch(/Build passed$/)
    expect(out[8]).toMatch(/\s+Build failed$/)
    expect(out).toHaveLength(9)
  })

  it("leaves out kinds with nothing waiting", () => {
    const out = digestPreviewLines(preview({ items: [notification(3, "assignment", "You were assigned HER-12")] }))
    expect(out.filter((line) => !line.startsWith("  "))).toHaveLength(2)
    expect(out[1]).toBe("assignment (1)")
  })

  it("says when there is no email address to send to", () => {
    const out = digestPreviewLines(preview({ emailAddress: null }))
    expect(out[0]).toMatch(/^digest for alice \(no email address set: nothing will be sent\), due /)
  })

  it("is one line when nothing is waiting", () => {
    expect(digestPreviewLines(preview({ dueAt: null, items: [] }))).toEqual(["nothing waiting for alice's digest"])
  })
})

describe("digest settings", () => {
  it.each([
    [{ schedule: { _tag: "daily", at: "09:00" } }, "daily at 09:00 Europe/London, read items left out"],
    [{ schedule: { _tag: "hourly" }, includeRead: true }, "hourly on the hour Europe/London, read items included"],
    [
      { schedule: { _tag: "weekly", weekday: "monday", at: "08:30" }, timeZone: "Asia/Kolkata" },
      "weekly on monday at 08:30 Asia/Kolkata, read items left out"
    ]
  ] as const)("%j reads as %s", (fields, text) => {
    expect(digestSettingsText(settings(fields))).toBe(text)
  })

  it("is JSON in the shape prefs set sends", () => {
    expect(digestSettingsJson(settings({ schedule: { _tag: "weekly", weekday: "friday", at: "17:00" } }))).toEqual({
      schedule: { _tag: "weekly", weekday: "friday", at: "17:00" },
      timeZone: "Europe/London",
      includeRead: false
    })
  })

  it("shows in prefs get: a digest field in JSON and a last line for people", () => {
    const kind = { inApp: true, push: true, email: "digest" }
    const prefs = Schema.decodeUnknownSync(Preferences)({
      userId: "alice",
      existingBeforeRollout: false,
      emailAddress: null,
      kinds: { mention: kind, assignment: kind, status_update: kind },
      digest: { schedule: { _tag: "daily", at: "09:00" }, timeZone: "UTC", includeRead: false }
    })
    expect(preferencesJson(prefs).digest).toEqual({
      schedule: { _tag: "daily", at: "09:00" },
      timeZone: "UTC",
      includeRead: false
    })
    const out = preferencesLines(prefs)
    expect(out.at(-1)).toBe("digest: daily at 09:00 UTC, read items left out")
  })
})

describe("itemCount", () => {
  it.each([[0, "0 items"], [1, "1 item"], [7, "7 items"]])("%i is %s", (n, text) => {
    expect(itemCount(n)).toBe(text)
  })
})
