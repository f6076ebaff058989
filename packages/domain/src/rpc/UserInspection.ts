/**
 * `InspectUser`: one user's preferences, devices, rollout, open sockets and
 * newest notifications with their deliveries (see `UserReport`). A member of
 * the admin group (`AdminRpcs`), so only the admin key may call it; it reads
 * and changes nothing, and any node gives the same answer.
 */
import { Schema } from "effect"
import { Rpc } from "effect/rpc"
import { InvalidRequest, StorageUnavailable } from "../Errors.ts"
import { UserId } from "../Ids.ts"
import { UserReport } from "../UserReport.ts"

/** How many notifications a report lists when no `limit` is given. */
export const DefaultInspectLimit = 20

/** The most notifications one report lists. */
export const MaxInspectLimit = 200

/**
 * The report on one user, with their newest `limit` notifications (default
 * 20, at most 200). The sockets are counted on every node, which takes about
 * 300 ms in a cluster.
 *
 * @example
 * ```ts
 * const report = yield* admin.inspectUser("alice", 50)
 * ```
 */
export const InspectUser = Rpc.make("InspectUser", {
  payload: {
    userId: UserId,
    limit: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MaxInspectLimit }))))
  },
  success: UserReport,
  error: Schema.Union([InvalidRequest, StorageUnavailable])
})
