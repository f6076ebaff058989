/**
 * The typed client for Herald's admin API (`/rpc/admin`, admin key), used by
 * the `herald` CLI and operators' scripts. Failures are the same tagged
 * errors as `HeraldClient`'s.
 *
 * @example
 * ```ts
 * import { HeraldAdminClient } from "@herald/client"
 * import { Effect } from "effect"
 *
 * const dead = Effect.gen(function*() {
 *   const admin = yield* HeraldAdminClient
 *   return yield* admin.listDeadLetters({ channel: "push", limit: 20 })
 * }).pipe(Effect.provide(HeraldAdminClient.layer({ url: "http://127.0.0.1:8080", adminKey: process.env.HERALD_ADMIN_KEY! })))
 * ```
 */
import { AdminRpcs } from "@herald/domain"
import { Context, Effect, Layer, type Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { RpcSerialization } from "effect/rpc"
import type { HeraldClientError } from "./HeraldClient.ts"
import { makeRpcTransport } from "./internal/RpcTransport.ts"

export interface DeadLetterQuery {
  readonly userId?: string
  readonly channel?: string
  readonly limit?: number
}

export interface HeraldAdminClientOptions {
  readonly url: string
  /** The admin key (`HERALD_ADMIN_KEY`); the app key is refused. */
  readonly adminKey: string | Redacted.Redacted<string>
}

export class HeraldAdminClient extends Context.Service<HeraldAdminClient, {
  /** Deliveries that used all their attempts, newest first. */
  listDeadLetters(query: DeadLetterQuery): Effect.Effect<ReadonlyArray<AdminRpcs.DeadLetter>, HeraldClientError>
  /** What the user's digest would contain if it were sent now. */
  previewDigest(userId: string): Effect.Effect<AdminRpcs.DigestPreview, HeraldClientError>
  /** Makes the user's digest due now; resolves to how many items it will contain (0: nothing is sent). */
  sendDigestNow(userId: string): Effect.Effect<number, HeraldClientError>
}>()("@herald/client/HeraldAdminClient") {
  static readonly layer = (options: HeraldAdminClientOptions): Layer.Layer<HeraldAdminClient> =>
    Layer.effect(HeraldAdminClient, make(options)).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(RpcSerialization.layerJson)
    )
}

const make = Effect.fnUntraced(function*(options: HeraldAdminClientOptions) {
  const { call, decode, rpc } = yield* makeRpcTransport(AdminRpcs.AdminRpcs, {
    url: options.url,
    path: "/rpc/admin",
    key: options.adminKey,
    keyName: "admin key"
  })
  return HeraldAdminClient.of({
    listDeadLetters: Effect.fn("HeraldAdminClient.listDeadLetters")(function*(query: DeadLetterQuery) {
      const payload = yield* decode(AdminRpcs.ListDeadLetters.payloadSchema, query)
      const { items } = yield* call(rpc.ListDeadLetters(payload))
      return items
    }),
    previewDigest: Effect.fn("HeraldAdminClient.previewDigest")(function*(userId: string) {
      const payload = yield* decode(AdminRpcs.PreviewDigest.payloadSchema, { userId })
      return yield* call(rpc.PreviewDigest(payload))
    }),
    sendDigestNow: Effect.fn("HeraldAdminClient.sendDigestNow")(function*(userId: string) {
      const payload = yield* decode(AdminRpcs.SendDigestNow.payloadSchema, { userId })
      const { items } = yield* call(rpc.SendDigestNow(payload))
      return items
    })
  })
})
