/**
 * `herald user USER`: everything Herald knows about one user's notifications,
 * for when they say they never got one, through the admin `InspectUser` RPC
 * (admin key). Reads and changes nothing.
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { AdminRpcs } from "@herald/domain"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { printResult } from "../Output.ts"
import { userArgument } from "../RolloutChanges.ts"
import { intBetween } from "../SharedFlags.ts"
import { userReportJson, userReportLines } from "../UserFormat.ts"

export const user = Command.make(
  "user",
  {
    user: userArgument("The user to inspect"),
    limit: intBetween(
      "limit",
      1,
      AdminRpcs.MaxInspectLimit,
      `How many of the newest notifications to show (1-${AdminRpcs.MaxInspectLimit}, default ${AdminRpcs.DefaultInspectLimit})`
    ).pipe(Flag.withDefault(AdminRpcs.DefaultInspectLimit))
  },
  Effect.fn("herald.user")(function*({ limit, user }) {
    const admin = yield* HeraldAdminClient
    const report = yield* admin.inspectUser(user, limit)
    yield* printResult(userReportJson(report), userReportLines(report))
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Show one user's preferences, devices, rollout, sockets and recent deliveries"),
  Command.withDescription(
    "Show everything Herald knows about one user's notifications, for when they say they never got one: their " +
      "preferences (kinds by channels, email address, existing before the rollout) and digest schedule with when the " +
      "next and last digests are; their push devices; whether the rollout flag has them in, and why (kill switch, deny " +
      "or allow list, their bucket against the percentage); how many sockets they have open on which nodes of the " +
      "cluster; and their newest notifications (--limit, default 20), each with one row per channel: in-app (off, " +
      "acked or not), every push and email delivery (state, attempts, latency from publish, last error) and the digest. " +
      "Reads and changes nothing. With --json, the whole report as one JSON object. Needs the admin key (--admin-key). " +
      "Example: herald user alice --limit 50"
  ),
  Command.withExamples([
    { command: "herald user alice", description: "alice's settings, sockets and 20 newest notifications" },
    { command: "herald user alice --limit 100 --json", description: "The same with 100 notifications, as one JSON object" }
  ])
)
