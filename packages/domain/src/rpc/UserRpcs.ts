/**
 * The user-scoped RPC group: what an end user's own page or app calls with a
 * client token (`Authorization: Bearer <client token>`, the same HS256 token
 * that opens a socket), never with the app API key. Served at `POST /rpc/me`.
 *
 * No payload names a user: every call acts on the token's subject, which the
 * `UserAuthentication` middleware provides to the handlers as `CurrentUser`,
 * so a token for one user has no way to reach another user's data. The
 * schemas and limits are the app group's (`AppRpcs`) with `userId` left out.
 *
 * A missing, wrong or expired token is refused with HTTP 401 before any
 * handler runs.
 *
 * @example
 * ```ts
 * import { HeraldUserClient } from "@herald/client"
 * import { Effect } from "effect"
 *
 * const unread = Effect.flatMap(HeraldUserClient, (me) => me.unreadCount()).pipe(
 *   Effect.provide(HeraldUserClient.layer({ url: location.origin, token }))
 * )
 * ```
 */
import { Context, Struct } from "effect"
import { Rpc, RpcGroup, RpcMiddleware } from "effect/rpc"
import { Unauthorized } from "../Errors.ts"
import { UserPreferencesPatch } from "../Preferences.ts"
import type { UserId } from "../Ids.ts"
import * as AppRpcs from "./AppRpcs.ts"

/** The user a request acts for: the verified subject of its client token. */
export class CurrentUser extends Context.Service<CurrentUser, {
  readonly userId: UserId
}>()("@herald/domain/rpc/UserRpcs/CurrentUser") {}

/**
 * Verifies the request's client token and provides `CurrentUser` to the
 * handler; fails with `Unauthorized` when the token does not verify.
 */
export class UserAuthentication extends RpcMiddleware.Service<UserAuthentication, {
  provides: CurrentUser
}>()("@herald/domain/rpc/UserRpcs/UserAuthentication", { error: Unauthorized }) {}

/** A page of the user's inbox, newest first. Pass `nextBefore` back as `before` for the next page. */
export const ListInbox = Rpc.make("ListInbox", {
  payload: Struct.omit(AppRpcs.ListInbox.payloadSchema.fields, ["userId"]),
  success: AppRpcs.ListInbox.successSchema,
  error: AppRpcs.ListInbox.errorSchema
})

/** How many of the user's notifications are unread. */
export const UnreadCount = Rpc.make("UnreadCount", {
  success: AppRpcs.UnreadCount.successSchema,
  error: AppRpcs.UnreadCount.errorSchema
})

/** Marks the given notifications read; ids that are not the user's or already read are ignored. */
export const MarkRead = Rpc.make("MarkRead", {
  payload: Struct.omit(AppRpcs.MarkRead.payloadSchema.fields, ["userId"]),
  success: AppRpcs.MarkRead.successSchema,
  error: AppRpcs.MarkRead.errorSchema
})

/** Marks every notification of the user read. */
export const MarkAllRead = Rpc.make("MarkAllRead", {
  success: AppRpcs.MarkAllRead.successSchema,
  error: AppRpcs.MarkAllRead.errorSchema
})

/** The user's effective preferences (their changes over the defaults). */
export const GetPreferences = Rpc.make("GetPreferences", {
  success: AppRpcs.GetPreferences.successSchema,
  error: AppRpcs.GetPreferences.errorSchema
})

/**
 * Changes how each kind reaches the user and their digest, and returns the
 * effective preferences. The email address is the app's to set (`UserPreferencesPatch`).
 */
export const UpdatePreferences = Rpc.make("UpdatePreferences", {
  payload: { patch: UserPreferencesPatch },
  success: AppRpcs.UpdatePreferences.successSchema,
  error: AppRpcs.UpdatePreferences.errorSchema
})

/** The user's registered devices, newest first. */
export const ListDevices = Rpc.make("ListDevices", {
  success: AppRpcs.ListDevices.successSchema,
  error: AppRpcs.ListDevices.errorSchema
})

/** Forgets one of the user's device tokens; `removed` is false when it was not registered to them. */
export const UnregisterDevice = Rpc.make("UnregisterDevice", {
  payload: Struct.omit(AppRpcs.UnregisterDevice.payloadSchema.fields, ["userId"]),
  success: AppRpcs.UnregisterDevice.successSchema,
  error: AppRpcs.UnregisterDevice.errorSchema
})

export class UserRpcs extends RpcGroup.make(
  ListInbox,
  UnreadCount,
  MarkRead,
  MarkAllRead,
  GetPreferences,
  UpdatePreferences,
  ListDevices,
  UnregisterDevice
).middleware(UserAuthentication) {}

