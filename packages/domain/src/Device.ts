/**
 * A device that receives push notifications: its FCM registration token and
 * platform. A token belongs to one user at a time; registering it for another
 * user (a shared device after a new sign-in) moves it.
 */
import { Schema } from "effect"
import { isStorableText } from "./StorableText.ts"
import { UserId } from "./Ids.ts"

export const Platform = Schema.Literals(["web", "ios", "android"])
export type Platform = typeof Platform.Type

/** An FCM registration token, as the app got it from the Firebase SDK on the device. */
export const DeviceToken = Schema.String.pipe(
  Schema.check(Schema.isMinLength(1), Schema.isMaxLength(4096), Schema.isPattern(/^\S+$/, { description: "no spaces" }), isStorableText)
)

export class Device extends Schema.Class<Device>("@herald/domain/Device")({
  userId: UserId,
  token: DeviceToken,
  platform: Platform,
  createdAt: Schema.DateTimeUtcFromString
}) {}
