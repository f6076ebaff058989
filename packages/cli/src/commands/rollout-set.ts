/**
 * `herald rollout set PERCENT`: turns real-time notifications on for that
 * percentage of users, through the admin `ChangeRollout` RPC (admin key).
 * Users are bucketed by a stable hash, so raising it keeps everyone who was in.
 */
import { Percentage } from "@herald/domain"
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { applyChange, changeFlags } from "../RolloutChanges.ts"

export const rolloutSet = Command.make(
  "set",
  {
    percentage: Argument.Finite("percent").pipe(
      Argument.withSchema(Percentage),
      Argument.withMetavar("PERCENT"),
      Argument.withDescription("The percentage of users to turn real-time notifications on for: 0 to 100, decimals allowed")
    ),
    ...changeFlags
  },
  Effect.fn("herald.rollout.set")(function*({ percentage, ...flags }) {
    yield* applyChange({ action: "set", percentage }, flags)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Turn real-time notifications on for a percentage of users"),
  Command.withDescription(
    "Set the percentage of users who get real-time notifications (sockets and push); the others get email only. " +
      "0 to 100 in steps of 0.01. A user is bucketed by a stable hash of their id, so raising the percentage keeps " +
      "everyone who was in; the allow and deny lists and the kill switch still apply. Every node applies it within " +
      "a second. Prints the new state (with --json, as one JSON object); the change is audited with --actor and " +
      "--reason. Needs the admin key (--admin-key). Example: herald rollout set 25 --reason \"phase 2\""
  ),
  Command.withExamples([
    { command: "herald rollout set 5 --reason \"canary\"", description: "Real-time for 5 % of users" },
    { command: "herald rollout set 100 --actor release-bot", description: "Everyone, recorded as release-bot" }
  ])
)
