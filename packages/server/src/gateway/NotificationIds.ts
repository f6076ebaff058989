/**
 * Notification ids: UUIDv7, so they sort roughly by creation time. Built
 * from the clock and the random bits of `randomUUID`, which Node draws from
 * a pooled entropy buffer; a 16-byte `getRandomValues` per id was about 5 %
 * of a busy server's CPU.
 */
import { NotificationId } from "@herald/domain"
import { randomUUID } from "node:crypto"

/** A fresh UUIDv7: 48 bits of Unix milliseconds, the version nibble 7, then 74 random bits with the RFC variant. */
export const newNotificationId = (): NotificationId => {
  // randomUUID is xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, V being the variant: keep its last 18 characters.
  const random = randomUUID()
  const millis = Date.now().toString(16).padStart(12, "0")
  return NotificationId.make(`${millis.slice(0, 8)}-${millis.slice(8)}-7${random.slice(15)}`)
}
