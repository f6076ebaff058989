/**
 * The fan-out's frame text is built by hand for speed; clients decode it
 * with the protocol's schema. These hold the hand-built text against the
 * schema's own encoding, byte for byte, for notifications with every
 * optional field absent and present, a read one, and text that JSON has to
 * escape.
 */
import { describe, expect, it } from "vitest"
import { Cursor, Notification, NotificationId, Socket, UserId } from "@herald/domain"
import { notificationFrameText, replayFrameText } from "@herald/server/fanout/NotificationFrames"
import { DateTime, Schema } from "effect"

const encodeFrame = Schema.encodeSync(Socket.NotificationFrame)
const decodeFrame = Schema.decodeUnknownSync(Schema.fromJsonString(Socket.NotificationFrame))

const bare = new Notification({
  id: NotificationId.make("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
  userId: UserId.make("alice"),
  cursor: Cursor.make(1),
  kind: "mention",
  title: "Bob mentioned you",
  body: null,
  link: null,
  actor: null,
  idempotencyKey: null,
  createdAt: DateTime.makeUnsafe("2026-12-02T10:11:12.345Z"),
  readAt: null
})

const full = new Notification({
  ...bare,
  id: NotificationId.make("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"),
  userId: UserId.make("team-7:user.name@example|x"),
  cursor: Cursor.make(9_007_199_254_740),
  kind: "status_update",
  title: "Line\nbreak, tab\t, émoji 🎉, <script>",
  body: "\u2028 separators \u2029 and \u0001 control",
  link: "https://app.example.com/x?a=1&b=\"2\"",
  actor: "Zoë",
  idempotencyKey: "order-42",
  createdAt: DateTime.makeUnsafe("1999-12-31T23:59:59.000Z"),
  readAt: DateTime.makeUnsafe("2026-01-01T00:00:00.001Z")
})

const bySchema = (notification: Notification, replayed: boolean) =>
  JSON.stringify(encodeFrame(new Socket.NotificationFrame({ type: "notification", notification, ...(replayed ? { replayed: true } : {}) })))

describe("notification frame text", () => {
  for (const [name, notification] of [["bare", bare], ["every field set", full]] as const) {
    it(`a live frame (${name}) is the schema's encoding`, () => {
      expect(notificationFrameText(notification)).toBe(bySchema(notification, false))
      expect(decodeFrame(notificationFrameText(notification)).notification).toEqual(notification)
    })
    it(`a replayed frame (${name}) is the schema's encoding`, () => {
      expect(replayFrameText(notification)).toBe(bySchema(notification, true))
      expect(decodeFrame(replayFrameText(notification)).replayed).toBe(true)
    })
  }
})
