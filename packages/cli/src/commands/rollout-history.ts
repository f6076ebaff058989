/**
 * `herald rollout history`: the audited changes of the rollout flag, newest
 * first, through the admin `RolloutHistory` RPC (admin key).
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { printRows } from "../Output.ts"
import { rolloutChangeJson, rolloutHistoryTable } from "../RolloutFormat.ts"
import { intBetween } from "../SharedFlags.ts"

/** The most the server lists at once (`AdminRpcs.RolloutHistory`); it lists 50 when no --limit is given. */
const MaxChanges = 1000

export const rolloutHistory = Command.make(
  "history",
  {
    limit: intBetween("limit", 1, MaxChanges, `How many changes to list (1-${MaxChanges}, default 50)`).pipe(Flag.optional)
  },
  Effect.fn("herald.rollout.history")(function*({ limit }) {
    const admin = yield* HeraldAdminClient
    const changes = yield* admin.rolloutHistory(Option.getOrUndefined(limit))
    yield* printRows(changes, rolloutChangeJson, rolloutHistoryTable, "no rollout changes yet")
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("List the changes to the rollout, newest first"),
  Command.withDescription(
    "List the audited changes to the rollout flag, newest first: when (local time), who (the --actor of the change, " +
      "or guard when a rollback trigger tripped the kill switch), what (with the user for allow and deny), " +
      "the change as before → after (5% → 25%, killed: no → yes) and the reason. With --json, one JSON object per " +
      "change, with the whole state before and after. Needs the admin key (--admin-key). " +
      "Example: herald rollout history --limit 10"
  ),
  Command.withExamples([
    { command: "herald rollout history", description: "The 50 newest changes" },
    { command: "herald rollout history --limit 5 --json", description: "The 5 newest, as JSON lines" }
  ])
)
