/**
 * How `herald deadletters list` shows dead letters, checked on the
 * formatting functions directly: the CLI end-to-end test runs a server
 * without channels, so it never sees a dead letter.
 */
import { deadLetterJson, deadLettersTable } from "@herald/cli/src/Format.ts"
import { AdminRpcs } from "@herald/domain"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const deadLetter = (fields: Partial<typeof AdminRpcs.DeadLetter.Encoded> = {}) =>
  Schema.decodeUnknownSync(AdminRpcs.DeadLetter)({
    deliveryId: 7,
    notificationId: "0190f3a4-5b6c-7d8e-9f01-23456789abcd",
    userId: "alice",
    kind: "mention",
    title: "Bob mentioned you",
    channel: "push",
    target: `fcm-${"x".repeat(150)}-end12345`,
    attempts: 8,
    lastError: "UNREGISTERED: the token is no longer valid",
    createdAt: "2026-11-24T08:00:00.000Z",
    deadAt: "2026-11-24T09:30:00.000Z",
    ...fields
  })

describe("deadLetterJson", () => {
  it("keeps every field, the whole target and ISO times", () => {
    const d = deadLetter()
    expect(deadLetterJson(d)).toEqual({
      deliveryId: 7,
      notificationId: "0190f3a4-5b6c-7d8e-9f01-23456789abcd",
      userId: "alice",
      kind: "mention",
      title: "Bob mentioned you",
      channel: "push",
      target: d.target,
      attempts: 8,
      lastError: "UNREGISTERED: the token is no longer valid",
      createdAt: "2026-11-24T08:00:00.000Z",
      deadAt: "2026-11-24T09:30:00.000Z"
    })
  })
})

describe("deadLettersTable", () => {
  it("has the header, one aligned row per dead letter, long targets shortened and no error as -", () => {
    const out = deadLettersTable([
      deadLetter(),
      deadLetter({ userId: "bob", channel: "email", target: "bob@example.com", attempts: 3, lastError: null, title: "A\nB" })
    ])
    expect(out).toHaveLength(3)
    expect(out[0]).toMatch(/^DEAD AT\s+USER\s+CHANNEL\s+TARGET\s+ATTEMPTS\s+LAST ERROR\s+TITLE$/)
    expect(out[1]).toMatch(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+alice\s+push\s+fcm-x+…end12345\s+8\s+UNREGISTERED: the token is no longer valid\s+Bob mentioned you$/
    )
    expect(out[2]).toMatch(/^\S+ \S+\s+bob\s+email\s+bob@example\.com\s+3\s+-\s+A B$/)
    const column = (header: string) => out[0]!.indexOf(header)
    expect(out[1]!.indexOf("push")).toBe(column("CHANNEL"))
    expect(out[2]!.indexOf("bob@example.com")).toBe(column("TARGET"))
    expect(out[2]!.indexOf(" 3 ") + 1).toBe(column("ATTEMPTS"))
  })
})
