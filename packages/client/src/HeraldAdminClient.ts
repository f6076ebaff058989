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
import {
  AdminRpcs,
  type DeliveryStats,
  type LatencyPoint,
  type ReplayPageResult,
  type ReplayPlan,
  type ReplayPosition,
  type ReplayRun,
  type ReplaySelection,
  type RolloutChange,
  RolloutAction,
  type RolloutState,
  type RolloutStatus,
  type UserReport
} from "@herald/domain"
import { Context, type DateTime, Effect, Layer, type Redacted, Schema } from "effect"
import { FetchHttpClient } from "effect/http"
import { RpcSerialization } from "effect/rpc"
import type { HeraldClientError } from "./HeraldClient.ts"
import { makeRpcTransport } from "./internal/RpcTransport.ts"

/** Which dead letters a retry or drop acts on. */
/**
 * Filters dead letters and replays share; `since` and `until` are ISO 8601
 * instants bounding when the notification was published (`until` exclusive).
 */
export interface DeliveryFilterInput {
  readonly userId?: string
  readonly kind?: string
  readonly channel?: string
  readonly since?: string
  readonly until?: string
}

/** Which dead letters a retry or drop acts on. */
export interface DeadLetterSelection extends DeliveryFilterInput {
  /** The newest this many (1-100,000; default 1,000). */
  readonly limit?: number
  readonly dryRun?: boolean
}

/** What a replay selects: the shared filters, `channel` also `in_app`, and a delivery `status` (failed, dead, sent). */
export interface ReplaySelectionInput extends DeliveryFilterInput {
  readonly status?: string
}

/** One page of a planned replay; `run` and `position` come from the plan or the previous page. */
export interface ReplayPageInput {
  readonly run: ReplayRun
  readonly selection: ReplaySelection
  readonly position: ReplayPosition
  /** Items in this page (1-1,000). */
  readonly limit: number
  /** Send again push and email deliveries already sent. */
  readonly force: boolean
  /** How long the page waits for its deliveries to be attempted (0-120 s; default 30). */
  readonly settleSeconds?: number
}

export type DeadLetterOutcome = typeof AdminRpcs.DeadLetterOutcome.Type

export interface DeadLetterQuery extends DeliveryFilterInput {
  readonly limit?: number
}

/**
 * What to change in the rollout flag: `set` a percentage (0-100, two
 * decimals), `kill` or `resume`, or put a user on or off the allow or deny
 * list.
 */
export type RolloutCommandInput =
  | { readonly action: "set"; readonly percentage: number }
  | { readonly action: "kill" | "resume" }
  | { readonly action: "allow" | "unallow" | "deny" | "undeny"; readonly userId: string }

/** A change to the rollout flag (`ChangeRollout`), with who makes it and why; both go into the audit history. */
export type RolloutChangeInput = RolloutCommandInput & {
  /** Who is making the change (the CLI sends `user@host`). */
  readonly actor: string
  readonly reason?: string
}

export interface HeraldAdminClientOptions {
  readonly url: string
  /** The admin key (`HERALD_ADMIN_KEY`); the app key is refused. */
  readonly adminKey: string | Redacted.Redacted<string>
}

export class HeraldAdminClient extends Context.Service<HeraldAdminClient, {
  /** Deliveries that used all their attempts, newest first. */
  listDeadLetters(query: DeadLetterQuery): Effect.Effect<ReadonlyArray<AdminRpcs.DeadLetter>, HeraldClientError>
  /**
   * Puts the selected dead letters (newest first, up to `limit`, default 1,000) back on the
   * normal delivery path; with `dryRun`, only counts them.
   */
  retryDeadLetters(selection: DeadLetterSelection): Effect.Effect<DeadLetterOutcome, HeraldClientError>
  /** Gives the selected dead letters up for good, keeping `reason`; with `dryRun`, only counts them. */
  dropDeadLetters(selection: DeadLetterSelection & { readonly reason?: string }): Effect.Effect<DeadLetterOutcome, HeraldClientError>
  /** Plans a replay: what the selection holds, and the bounds and first position of its pages. Changes nothing. */
  planReplay(selection: ReplaySelectionInput): Effect.Effect<ReplayPlan, HeraldClientError>
  /**
   * Replays one page of a planned replay; answers once its deliveries were attempted, with
   * its counts and the next position (null when done). Repeating a page acts on nothing twice.
   */
  replayPage(page: ReplayPageInput): Effect.Effect<ReplayPageResult, HeraldClientError>
  /** What the user's digest would contain if it were sent now. */
  previewDigest(userId: string): Effect.Effect<AdminRpcs.DigestPreview, HeraldClientError>
  /** Makes the user's digest due now; resolves to how many items it will contain (0: nothing is sent). */
  sendDigestNow(userId: string): Effect.Effect<number, HeraldClientError>
  /** The rollout flag, how many users are in, and the guard's triggers and exit criteria with live values. */
  getRollout(): Effect.Effect<RolloutStatus, HeraldClientError>
  /** Changes the rollout flag (audited); resolves to the state after the change. */
  changeRollout(change: RolloutChangeInput): Effect.Effect<RolloutState, HeraldClientError>
  /** Audited changes of the rollout flag, newest first (the server's default page when `limit` is omitted). */
  rolloutHistory(limit?: number): Effect.Effect<ReadonlyArray<RolloutChange>, HeraldClientError>
  /** Cluster-wide delivery stats over `window` ("1m", "5m" or "1h"), the same from any node. */
  getStats(window: string): Effect.Effect<DeliveryStats, HeraldClientError>
  /**
   * The cluster's delivery latency per minute over the last `minutes` (1-180), oldest first and
   * every minute present (count 0 and null percentiles where nothing was delivered); the last
   * point is the current minute, still growing. For a chart: `admin.latencySeries(60)`.
   */
  latencySeries(minutes: number): Effect.Effect<ReadonlyArray<LatencyPoint>, HeraldClientError>
  /**
   * Everything Herald knows about one user's notifications: preferences, digest, devices, rollout,
   * open sockets on every node, and the newest `limit` notifications (default 20, at most 200)
   * with their deliveries. For example `admin.inspectUser("alice", 50)`.
   */
  inspectUser(userId: string, limit?: number): Effect.Effect<UserReport, HeraldClientError>
  /**
   * Revokes every client token issued to the user so far: their sockets close (4401) on every node
   * within a second and those tokens are refused from then on. Returns when it took effect.
   */
  revokeClientTokens(userId: string): Effect.Effect<{ readonly userId: string; readonly revokedAt: DateTime.Utc }, HeraldClientError>
}>()("@herald/client/HeraldAdminClient") {
  static readonly layer = (options: HeraldAdminClientOptions): Layer.Layer<HeraldAdminClient> =>
    Layer.effect(HeraldAdminClient, make(options)).pipe(
      Layer.provide(FetchHttpClient.layer),
      Layer.provide(RpcSerialization.layerJson)
    )
}

const PageLimits = Schema.Struct({
  limit: AdminRpcs.ReplayPage.payloadSchema.fields.limit,
  settleSeconds: Schema.UndefinedOr(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 120 }))))
})

const [SetChange, SwitchChange, ListChange] = AdminRpcs.ChangeRollout.payloadSchema.members

/** Just the action, so an unknown one is reported as such (`action: Expected "set" | …`). */
const ActionOnly = Schema.Struct({ action: RolloutAction })

const changeSchemaFor = (action: RolloutAction) => {
  switch (action) {
    case "set":
      return SetChange
    case "kill":
    case "resume":
      return SwitchChange
    case "allow":
    case "unallow":
    case "deny":
    case "undeny":
      return ListChange
  }
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
    retryDeadLetters: Effect.fn("HeraldAdminClient.retryDeadLetters")(function*(selection: DeadLetterSelection) {
      const payload = yield* decode(AdminRpcs.RetryDeadLetters.payloadSchema, selection)
      return yield* call(rpc.RetryDeadLetters(payload))
    }),
    dropDeadLetters: Effect.fn("HeraldAdminClient.dropDeadLetters")(
      function*(selection: DeadLetterSelection & { readonly reason?: string }) {
        const payload = yield* decode(AdminRpcs.DropDeadLetters.payloadSchema, selection)
        return yield* call(rpc.DropDeadLetters(payload))
      }
    ),
    planReplay: Effect.fn("HeraldAdminClient.planReplay")(function*(selection: ReplaySelectionInput) {
      const payload = yield* decode(AdminRpcs.PlanReplay.payloadSchema, { selection })
      return yield* call(rpc.PlanReplay(payload))
    }),
    replayPage: Effect.fn("HeraldAdminClient.replayPage")(function*(page: ReplayPageInput) {
      // The run, selection and position are already decoded; only the numbers come from a caller's input.
      yield* decode(PageLimits, { limit: page.limit, settleSeconds: page.settleSeconds })
      const { settleSeconds, ...rest } = page
      return yield* call(rpc.ReplayPage(settleSeconds === undefined ? rest : { ...rest, settleSeconds }))
    }),
    previewDigest: Effect.fn("HeraldAdminClient.previewDigest")(function*(userId: string) {
      const payload = yield* decode(AdminRpcs.PreviewDigest.payloadSchema, { userId })
      return yield* call(rpc.PreviewDigest(payload))
    }),
    sendDigestNow: Effect.fn("HeraldAdminClient.sendDigestNow")(function*(userId: string) {
      const payload = yield* decode(AdminRpcs.SendDigestNow.payloadSchema, { userId })
      const { items } = yield* call(rpc.SendDigestNow(payload))
      return items
    }),
    getRollout: Effect.fn("HeraldAdminClient.getRollout")(function*() {
      return yield* call(rpc.GetRollout())
    }),
    changeRollout: Effect.fn("HeraldAdminClient.changeRollout")(function*(change: RolloutChangeInput) {
      // Checked against the action's own shape first: the whole union would report every member's complaint.
      const { action } = yield* decode(ActionOnly, change)
      const payload = yield* decode(changeSchemaFor(action), change)
      return yield* call(rpc.ChangeRollout(payload))
    }),
    rolloutHistory: Effect.fn("HeraldAdminClient.rolloutHistory")(function*(limit?: number) {
      const payload = yield* decode(AdminRpcs.RolloutHistory.payloadSchema, limit === undefined ? {} : { limit })
      const { items } = yield* call(rpc.RolloutHistory(payload))
      return items
    }),
    getStats: Effect.fn("HeraldAdminClient.getStats")(function*(window: string) {
      const payload = yield* decode(AdminRpcs.GetStats.payloadSchema, { window })
      return yield* call(rpc.GetStats(payload))
    }),
    latencySeries: Effect.fn("HeraldAdminClient.latencySeries")(function*(minutes: number) {
      const payload = yield* decode(AdminRpcs.GetLatencySeries.payloadSchema, { minutes })
      const { points } = yield* call(rpc.GetLatencySeries(payload))
      return points
    }),
    inspectUser: Effect.fn("HeraldAdminClient.inspectUser")(function*(userId: string, limit?: number) {
      const payload = yield* decode(AdminRpcs.InspectUser.payloadSchema, limit === undefined ? { userId } : { userId, limit })
      return yield* call(rpc.InspectUser(payload))
    }),
    revokeClientTokens: Effect.fn("HeraldAdminClient.revokeClientTokens")(function*(userId: string) {
      const payload = yield* decode(AdminRpcs.RevokeClientTokens.payloadSchema, { userId })
      return yield* call(rpc.RevokeClientTokens(payload))
    })
  })
})
