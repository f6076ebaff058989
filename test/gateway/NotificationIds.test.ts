/**
 * Notification ids made from `randomUUID`'s pooled bits are real UUIDv7s:
 * they decode as `NotificationId`, carry the creation millisecond, and never
 * repeat.
 */
import { assert, it } from "@effect/vitest"
import { NotificationId } from "@herald/domain"
import { newNotificationId } from "@herald/server/gateway/NotificationIds"
import { Schema } from "effect"

it("ids decode as UUIDv7 NotificationIds, start with the creation millisecond and are unique", () => {
  const before = Date.now()
  const ids = Array.from({ length: 10_000 }, newNotificationId)
  const after = Date.now()
  for (const id of ids.slice(0, 100)) assert.strictEqual(Schema.decodeUnknownSync(NotificationId)(id), id)
  assert.strictEqual(new Set(ids).size, ids.length)
  const millis = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
  for (const id of [ids[0] ?? "", ids.at(-1) ?? ""]) {
    assert.isAtLeast(millis(id), before)
    assert.isAtMost(millis(id), after)
  }
  assert.match(ids[0] ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})
