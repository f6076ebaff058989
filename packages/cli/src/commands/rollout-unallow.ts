/**
 * `herald rollout unallow USER`: takes a user off the allow list, so the
 * percentage decides for them again, through the admin `ChangeRollout` RPC
 * (admin key).
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { applyChange, changeFlags, userArgument } from "../RolloutChanges.ts"

export const rolloutUnallow = Command.make(
  "unallow",
  { user: userArgument("The user to take off the allow list"), ...changeFlags },
  Effect.fn("herald.rollout.unallow")(function*({ user, ...flags }) {
    yield* applyChange({ action: "unallow", userId: user }, flags)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Take a user off the allow list"),
  Command.withDescription(
    "Take a user off the allow list: whether they get real-time notifications is up to the percentage again. " +
      "Prints the new state (with --json, as one JSON object). Needs the admin key (--admin-key). " +
      "Example: herald rollout unallow alice"
  ),
  Command.withExamples([
    { command: "herald rollout unallow alice", description: "alice follows the percentage again" }
  ])
)
