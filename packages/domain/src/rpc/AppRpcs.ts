/**
 * The app-facing RPC group: what an app calls, with its API key, to publish
 * notifications and to read and manage a user's inbox. Served at `/rpc`
 * (JSON over HTTP POST); the typed client in `@herald/client` is built from
 * this very group.
 */
import { Schema } from "effect"
import { Rpc, RpcGroup } from "effect/rpc"
import { InvalidRequest, StorageUnavailable } from "../Errors.ts"
import { Cursor, NotificationId, UserId } from "../Ids.ts"
import { Device, DeviceToken, Platform } from "../Device.ts"
import { Notification, NotifyItem, NotifyResult } from "../Notification.ts"
import { Preferences, PreferencesPatch } from "../Preferences.ts"

/** The most items one `Notify` call may carry. */
export const MaxNotifyBatch = 500

/** The largest inbox page. */
export const MaxInboxPage = 200

const StoreError = Schema.Union([InvalidRequest, StorageUnavailable])

/**
 * Publishes one or more notifications. Returns once every item is durably
 * stored; delivery to sockets follows. Items with an idempotency key seen
 * before for the same user come back with `deduplicated: true`.
 */
export const Notify = Rpc.make("Notify", {
  payload: {
    items: Schema.Array(NotifyItem).pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(MaxNotifyBatch)))
  },
  success: Schema.Struct({ results: Schema.Array(NotifyResult) }),
  error: StoreError
})

/** A page of a user's inbox, newest first. Pass `nextBefore` back as `before` for the next page. */
export const ListInbox = Rpc.make("ListInbox", {
  payload: {
    userId: UserId,
    unreadOnly: Schema.optionalKey(Schema.Boolean),
    before: Schema.optionalKey(Cursor),
    limit: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MaxInboxPage }))))
  },
  success: Schema.Struct({
    items: Schema.Array(Notification),
    nextBefore: Schema.NullOr(Cursor)
  }),
  error: StoreError
})

/** How many of the user's notifications are unread. */
export const UnreadCount = Rpc.make("UnreadCount", {
  payload: { userId: UserId },
  success: Schema.Struct({ count: Schema.Int }),
  error: StoreError
})

/** Marks the given notifications read; ids that are not the user's or already read are ignored. */
export const MarkRead = Rpc.make("MarkRead", {
  payload: {
    userId: UserId,
    ids: Schema.Array(NotificationId).pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(MaxInboxPage)))
  },
  success: Schema.Struct({ updated: Schema.Int }),
  error: StoreError
})

/** Marks every notification of the user read. */
export const MarkAllRead = Rpc.make("MarkAllRead", {
  payload: { userId: UserId },
  success: Schema.Struct({ updated: Schema.Int }),
  error: StoreError
})

/**
 * Issues a signed client token (HS256 JWT) with which the user's own client
 * opens a socket. Default lifetime one hour, at most 30 days.
 */
export const IssueClientToken = Rpc.make("IssueClientToken", {
  payload: {
    userId: UserId,
    ttlSeconds: Schema.optionalKey(
      Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 60, maximum: 30 * 24 * 3600 })))
    )
  },
  success: Schema.Struct({ token: Schema.String, expiresAt: Schema.DateTimeUtcFromString }),
  error: StoreError
})

/** The user's effective preferences (their changes over the defaults). */
export const GetPreferences = Rpc.make("GetPreferences", {
  payload: { userId: UserId },
  success: Preferences,
  error: StoreError
})

/**
 * Changes some of a user's preferences and returns the effective ones. The
 * change applies from the user's next notification on.
 */
export const UpdatePreferences = Rpc.make("UpdatePreferences", {
  payload: { userId: UserId, patch: PreferencesPatch },
  success: Preferences,
  error: StoreError
})

/** Registers (or moves to this user) a device's FCM registration token. */
export const RegisterDevice = Rpc.make("RegisterDevice", {
  payload: { userId: UserId, token: DeviceToken, platform: Platform },
  success: Device,
  error: StoreError
})

/** Forgets a device token of the user; `removed` is false when it was not registered to them. */
export const UnregisterDevice = Rpc.make("UnregisterDevice", {
  payload: { userId: UserId, token: DeviceToken },
  success: Schema.Struct({ removed: Schema.Boolean }),
  error: StoreError
})

/** The user's registered devices, newest first. */
export const ListDevices = Rpc.make("ListDevices", {
  payload: { userId: UserId },
  success: Schema.Struct({ devices: Schema.Array(Device) }),
  error: StoreError
})

export class AppRpcs extends RpcGroup.make(
  Notify,
  ListInbox,
  UnreadCount,
  MarkRead,
  MarkAllRead,
  IssueClientToken,
  GetPreferences,
  UpdatePreferences,
  RegisterDevice,
  UnregisterDevice,
  ListDevices
) {}
