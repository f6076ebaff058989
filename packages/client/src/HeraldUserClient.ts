/**
 * The typed client for one end user's own API (`/rpc/me`), for a browser
 * page or an app on the user's device. It authenticates with the user's
 * client token (the same token `NotificationSocket` opens a socket with),
 * never with the app API key, and acts only on that token's user: no method
 * takes a user id.
 *
 * Inputs are decoded with the server's own schemas before anything is sent,
 * so a bad field fails here with an `InvalidRequest` naming it. Failures are
 * the same tagged errors as `HeraldClient`'s; `Unauthorized` means the
 * server refused the client token (missing, wrong or expired: get a new one).
 * Browser-safe: it uses `fetch` and nothing from Node.
 *
 * @example
 * ```ts
 * import { HeraldUserClient } from "@herald/client"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const me = yield* HeraldUserClient
 *   const { items, nextBefore } = yield* me.listInbox({ unreadOnly: true, limit: 20 })
 *   yield* me.markRead(items.map((n) => n.id))
 *   return yield* me.unreadCount()
 * }).pipe(Effect.provide(HeraldUserClient.layer({ url: location.origin, token })))
 * ```
 */
import { type Device, type Preferences, type UserPreferencesPatch, UserRpcs } from "@herald/domain"
import { Context, Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { RpcSerialization } from "effect/rpc"
import type { HeraldClientError, InboxPage } from "./HeraldClient.ts"
import { makeRpcTransport } from "./internal/RpcTransport.ts"

/** What a user may change of their own preferences: kinds and digest (the email address is the app's). */
export type UserPreferencesPatchInput = typeof UserPreferencesPatch.Encoded

/** Which page of the user's inbox; every field is optional. */
export interface UserInboxQuery {
  readonly unreadOnly?: boolean
  /** Only notifications with a cursor below this one: pass the previous page's `nextBefore`. */
  readonly before?: number
  /** 1-200; the server's default page (50) when omitted. */
  readonly limit?: number
}

export interface HeraldUserClientOptions {
  /** The server's base URL, for example `http://127.0.0.1:8080` (in a page served by Herald, `location.origin`). */
  readonly url: string
  /** The user's client token (from `IssueClientToken`, `herald token` or `POST /dev/login`). */
  readonly token: string
}

export class HeraldUserClient extends Context.Service<HeraldUserClient, {
  /** A page of the user's inbox, newest first. */
  listInbox(query?: UserInboxQuery): Effect.Effect<InboxPage, HeraldClientError>
  /** How many of the user's notifications are unread. */
  unreadCount(): Effect.Effect<number, HeraldClientError>
  /** Marks the given notifications read (1-200 ids; others' ids are ignored); resolves to how many changed. */
  markRead(ids: ReadonlyArray<string>): Effect.Effect<number, HeraldClientError>
  /** Marks every notification read; resolves to how many changed. */
  markAllRead(): Effect.Effect<number, HeraldClientError>
  /** The user's effective preferences. */
  getPreferences(): Effect.Effect<Preferences, HeraldClientError>
  /**
   * Changes some preferences; resolves to the effective ones.
   *
   * @example
   * ```ts
   * me.updatePreferences({ kinds: { status_update: { push: false, email: "digest" } } })
   * ```
   */
  updatePreferences(patch: UserPreferencesPatchInput): Effect.Effect<Preferences, HeraldClientError>
  /** The user's registered devices, newest first. */
  listDevices(): Effect.Effect<ReadonlyArray<Device>, HeraldClientError>
  /** Forgets one of the user's device tokens; resolves to false when it was not registered to them. */
  unregisterDevice(token: string): Effect.Effect<boolean, HeraldClientError>
}>()("@herald/client/HeraldUserClient") {
  /** A client for the server at `options.url`, acting as the user of `options.token`. */
  static readonly layer = (options: HeraldUserClientOptions): Layer.Layer<HeraldUserClient> =>
    Layer.effect(HeraldUserClient, make(options)).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(RpcSerialization.layerJson)
    )
}

const make = Effect.fnUntraced(function*(options: HeraldUserClientOptions) {
  const { call, decode, rpc } = yield* makeRpcTransport(UserRpcs.UserRpcs, {
    url: options.url,
    path: "/rpc/me",
    key: options.token,
    keyName: "client token"
  })

  return HeraldUserClient.of({
    listInbox: Effect.fn("HeraldUserClient.listInbox")(function*(query: UserInboxQuery = {}) {
      const payload = yield* decode(UserRpcs.ListInbox.payloadSchema, query)
      return yield* call(rpc.ListInbox(payload))
    }),
    unreadCount: Effect.fn("HeraldUserClient.unreadCount")(function*() {
      const { count } = yield* call(rpc.UnreadCount())
      return count
    }),
    markRead: Effect.fn("HeraldUserClient.markRead")(function*(ids: ReadonlyArray<string>) {
      const payload = yield* decode(UserRpcs.MarkRead.payloadSchema, { ids })
      const { updated } = yield* call(rpc.MarkRead(payload))
      return updated
    }),
    markAllRead: Effect.fn("HeraldUserClient.markAllRead")(function*() {
      const { updated } = yield* call(rpc.MarkAllRead())
      return updated
    }),
    getPreferences: Effect.fn("HeraldUserClient.getPreferences")(function*() {
      return yield* call(rpc.GetPreferences())
    }),
    updatePreferences: Effect.fn("HeraldUserClient.updatePreferences")(function*(patch: UserPreferencesPatchInput) {
      const payload = yield* decode(UserRpcs.UpdatePreferences.payloadSchema, { patch })
      return yield* call(rpc.UpdatePreferences(payload))
    }),
    listDevices: Effect.fn("HeraldUserClient.listDevices")(function*() {
      const { devices } = yield* call(rpc.ListDevices())
      return devices
    }),
    unregisterDevice: Effect.fn("HeraldUserClient.unregisterDevice")(function*(token: string) {
      const payload = yield* decode(UserRpcs.UnregisterDevice.payloadSchema, { token })
      const { removed } = yield* call(rpc.UnregisterDevice(payload))
      return removed
    })
  })
})
