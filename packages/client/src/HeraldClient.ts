/**
 * The typed client an app uses to call Herald's RPC API.
 *
 * Inputs are plain objects, decoded with the same schemas the server uses, so
 * a bad field fails here with an `InvalidRequest` naming it, before anything
 * is sent. Every failure is one of four tagged errors: `Unauthorized` (wrong
 * API key), `InvalidRequest`, `StorageUnavailable` (retry with the same
 * idempotency keys) and `ServerUnreachable`.
 *
 * @example
 * ```ts
 * import { HeraldClient } from "@herald/client"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const herald = yield* HeraldClient
 *   const { id, deduplicated } = yield* herald.notify({
 *     userId: "alice",
 *     kind: "mention",
 *     title: "Bob mentioned you in #general",
 *     idempotencyKey: "msg-42-alice"
 *   })
 * }).pipe(Effect.provide(HeraldClient.layer({ url: "http://127.0.0.1:8080", apiKey: process.env.HERALD_API_KEY! })))
 * ```
 */
import {
  AppRpcs,
  type Cursor,
  type Device,
  type InvalidRequest,
  type Notification,
  NotificationId,
  NotifyItem,
  type NotifyResult,
  type Preferences,
  type PreferencesPatch,
  type RateLimited,
  ServerUnreachable,
  type StorageUnavailable,
  type Unauthorized,
  UserId
} from "@herald/domain"
import { Context, Effect, Exit, Layer, type Redacted, Schema } from "effect"
import type { DateTime } from "effect"
import { FetchHttpClient, type HttpClient } from "effect/http"
import { RpcSerialization } from "effect/rpc"
import { makeNotifyCoalescer } from "./internal/NotifyCoalescer.ts"
import { makeRpcTransport, prefixPath } from "./internal/RpcTransport.ts"

export type HeraldClientError = Unauthorized | InvalidRequest | StorageUnavailable | ServerUnreachable | RateLimited

/** A preferences change, as plain data; see `PreferencesPatch`. */
export type PreferencesPatchInput = typeof PreferencesPatch.Encoded

/** A notification to publish, as plain data; see `NotifyItem` for the rules of each field. */
export type NotifyInput = typeof NotifyItem.Encoded

export interface InboxQuery {
  readonly userId: string
  readonly unreadOnly?: boolean
  /** Only notifications with a cursor below this one: pass the previous page's `nextBefore`. */
  readonly before?: number
  readonly limit?: number
}

export interface InboxPage {
  readonly items: ReadonlyArray<Notification>
  /** The `before` for the next (older) page, or null on the last page. */
  readonly nextBefore: Cursor | null
}

export interface HeraldClientOptions {
  /** The server's base URL, for example `http://127.0.0.1:8080`. */
  readonly url: string
  /** The app API key (`HERALD_API_KEY`). */
  readonly apiKey: string | Redacted.Redacted<string>
  /**
   * `Notify` calls open at once (default 4). A publish that finds them all open waits, and
   * everything that waited goes out in one call when the next answers, so a busy app makes
   * fewer, larger calls; an idle one sends each publish at once. Each caller still gets its
   * own results, and its own items stay in one call.
   */
  readonly maxNotifyCallsInFlight?: number
}

/** The default of `HeraldClientOptions.maxNotifyCallsInFlight`. */
export const DefaultNotifyCallsInFlight = 4

// A merged call stays well inside the server's default 1 MiB body limit (HERALD_MAX_REQUEST_BYTES).
const MergedCallItems = 100
const MergedCallBytes = 256 * 1024

export class HeraldClient extends Context.Service<HeraldClient, {
  /** Publishes one notification; resolves once it is durably stored. */
  notify(item: NotifyInput): Effect.Effect<NotifyResult, HeraldClientError>
  /** Publishes up to 500 notifications in one call, with one result per item in order. */
  notifyBatch(items: ReadonlyArray<NotifyInput>): Effect.Effect<ReadonlyArray<NotifyResult>, HeraldClientError>
  /** A page of the user's inbox, newest first. */
  listInbox(query: InboxQuery): Effect.Effect<InboxPage, HeraldClientError>
  unreadCount(userId: string): Effect.Effect<number, HeraldClientError>
  /** Marks the given notifications read; returns how many changed. */
  markRead(userId: string, ids: ReadonlyArray<string>): Effect.Effect<number, HeraldClientError>
  markAllRead(userId: string): Effect.Effect<number, HeraldClientError>
  /** A signed token with which the user's client opens a socket (see docs/protocol.md). */
  issueClientToken(
    userId: string,
    ttlSeconds?: number
  ): Effect.Effect<{ readonly token: string; readonly expiresAt: DateTime.Utc }, HeraldClientError>
  /** The user's effective preferences. */
  getPreferences(userId: string): Effect.Effect<Preferences, HeraldClientError>
  /**
   * Changes some preferences; returns the effective ones.
   *
   * @example
   * ```ts
   * herald.updatePreferences("alice", { kinds: { status_update: { push: false } }, emailAddress: "alice@example.com" })
   * ```
   */
  updatePreferences(userId: string, patch: PreferencesPatchInput): Effect.Effect<Preferences, HeraldClientError>
  /** Registers a device's FCM registration token for push. */
  registerDevice(userId: string, token: string, platform: string): Effect.Effect<Device, HeraldClientError>
  /** Forgets a device token; resolves to false when it was not registered to the user. */
  unregisterDevice(userId: string, token: string): Effect.Effect<boolean, HeraldClientError>
  listDevices(userId: string): Effect.Effect<ReadonlyArray<Device>, HeraldClientError>
}>()("@herald/client/HeraldClient") {
  /** A client for the server at `options.url`, authenticated with the app API key, over `fetch`. */
  static readonly layer = (options: HeraldClientOptions): Layer.Layer<HeraldClient> =>
    HeraldClient.layerHttpClient(options).pipe(Layer.provide(FetchHttpClient.layer))

  /**
   * The same client over the `HttpClient` the app provides. `fetch` works in browsers and Node
   * alike but is the costly part of a call in Node: an app that publishes a lot from Node should
   * provide `NodeHttpClient.layerUndici` from `@effect/platform-node`: the bench's publisher used a
   * third less CPU per `Notify` call with it (docs/performance.md).
   *
   * @example
   * ```ts
   * import { NodeHttpClient } from "@effect/platform-node"
   *
   * const HeraldLive = HeraldClient.layerHttpClient({ url, apiKey }).pipe(Layer.provide(NodeHttpClient.layerUndici))
   * ```
   */
  static readonly layerHttpClient = (options: HeraldClientOptions): Layer.Layer<HeraldClient, never, HttpClient.HttpClient> =>
    Layer.effect(HeraldClient, make(options)).pipe(Layer.provide(RpcSerialization.layerJson))
}

const NotifyItems = Schema.Array(NotifyItem)
const MarkReadInput = Schema.Struct({ userId: UserId, ids: Schema.Array(NotificationId) })

const CallsInFlight = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1)))
const decodeCallsInFlight = Schema.decodeUnknownExit(CallsInFlight)

const make = Effect.fnUntraced(function*(options: HeraldClientOptions) {
  const { baseUrl, call, decode, rpc } = yield* makeRpcTransport(AppRpcs.AppRpcs, {
    url: options.url,
    path: "/rpc",
    key: options.apiKey,
    keyName: "API key"
  })
  const callsInFlight = decodeCallsInFlight(options.maxNotifyCallsInFlight ?? DefaultNotifyCallsInFlight)
  if (Exit.isFailure(callsInFlight)) {
    return yield* Effect.die(`HeraldClientOptions.maxNotifyCallsInFlight must be an integer of at least 1, got ${String(options.maxNotifyCallsInFlight)}`)
  }
  const coalescer = yield* makeNotifyCoalescer<HeraldClientError>({
    send: (items) => Effect.map(call(rpc.Notify({ items })), ({ results }) => results),
    isRefusal: (error) => error._tag === "InvalidRequest",
    wrongCount: (sent, answered) => new ServerUnreachable({ url: baseUrl, message: `the server answered Notify of ${sent} items with ${answered} results` }),
    limits: { callsInFlight: callsInFlight.value, itemsPerCall: MergedCallItems, bytesPerCall: MergedCallBytes },
    scope: yield* Effect.scope
  })

  const notifyBatch = Effect.fn("HeraldClient.notifyBatch")(function*(input: ReadonlyArray<NotifyInput>) {
    const items = yield* decode(NotifyItems, input).pipe(Effect.mapError(prefixPath("items")))
    // An empty call is the server's to refuse, as it always was; merged, it would vanish.
    if (items.length === 0) return (yield* call(rpc.Notify({ items }))).results
    return yield* coalescer.publish(items)
  })

  return HeraldClient.of({
    notify: Effect.fn("HeraldClient.notify")(function*(input: NotifyInput) {
      const [result] = yield* notifyBatch([input])
      if (result === undefined) {
        return yield* new ServerUnreachable({ url: baseUrl, message: "the server answered Notify with no result" })
      }
      return result
    }),
    notifyBatch,
    listInbox: Effect.fn("HeraldClient.listInbox")(function*(query: InboxQuery) {
      const payload = yield* decode(AppRpcs.ListInbox.payloadSchema, query)
      return yield* call(rpc.ListInbox(payload))
    }),
    unreadCount: Effect.fn("HeraldClient.unreadCount")(function*(userId: string) {
      const payload = yield* decode(AppRpcs.UnreadCount.payloadSchema, { userId })
      const { count } = yield* call(rpc.UnreadCount(payload))
      return count
    }),
    markRead: Effect.fn("HeraldClient.markRead")(function*(userId: string, ids: ReadonlyArray<string>) {
      const payload = yield* decode(MarkReadInput, { userId, ids })
      const { updated } = yield* call(rpc.MarkRead(payload))
      return updated
    }),
    markAllRead: Effect.fn("HeraldClient.markAllRead")(function*(userId: string) {
      const payload = yield* decode(AppRpcs.MarkAllRead.payloadSchema, { userId })
      const { updated } = yield* call(rpc.MarkAllRead(payload))
      return updated
    }),
    issueClientToken: Effect.fn("HeraldClient.issueClientToken")(function*(userId: string, ttlSeconds?: number) {
      const payload = yield* decode(
        AppRpcs.IssueClientToken.payloadSchema,
        ttlSeconds === undefined ? { userId } : { userId, ttlSeconds }
      )
      return yield* call(rpc.IssueClientToken(payload))
    }),
    getPreferences: Effect.fn("HeraldClient.getPreferences")(function*(userId: string) {
      const payload = yield* decode(AppRpcs.GetPreferences.payloadSchema, { userId })
      return yield* call(rpc.GetPreferences(payload))
    }),
    updatePreferences: Effect.fn("HeraldClient.updatePreferences")(function*(userId: string, patch: PreferencesPatchInput) {
      const payload = yield* decode(AppRpcs.UpdatePreferences.payloadSchema, { userId, patch })
      return yield* call(rpc.UpdatePreferences(payload))
    }),
    registerDevice: Effect.fn("HeraldClient.registerDevice")(function*(userId: string, token: string, platform: string) {
      const payload = yield* decode(AppRpcs.RegisterDevice.payloadSchema, { userId, token, platform })
      return yield* call(rpc.RegisterDevice(payload))
    }),
    unregisterDevice: Effect.fn("HeraldClient.unregisterDevice")(function*(userId: string, token: string) {
      const payload = yield* decode(AppRpcs.UnregisterDevice.payloadSchema, { userId, token })
      const { removed } = yield* call(rpc.UnregisterDevice(payload))
      return removed
    }),
    listDevices: Effect.fn("HeraldClient.listDevices")(function*(userId: string) {
      const payload = yield* decode(AppRpcs.ListDevices.payloadSchema, { userId })
      const { devices } = yield* call(rpc.ListDevices(payload))
      return devices
    })
  })
})

