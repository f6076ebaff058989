/**
 * `herald rollout deny USER`: puts a user on the deny list, so they get
 * email only whatever the percentage or the allow list, through the admin
 * `ChangeRollout` RPC (admin key).
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { applyChange, changeFlags, userArgument } from "../RolloutChanges.ts"

export const rolloutDeny = Command.make(
  "deny",
  { user: userArgument("The user to keep out"), ...changeFlags },
  Effect.fn("herald.rollout.deny")(function*({ user, ...flags }) {
    yield* applyChange({ action: "deny", userId: user }, flags)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Keep a user out of real-time notifications whatever the percentage"),
  Command.withDescription(
    "Put a user on the deny list: they get email only whatever the percentage or the allow list. " +
      "Undo with herald rollout undeny. Prints the new state (with --json, as one JSON object). " +
      "Needs the admin key (--admin-key). Example: herald rollout deny bob --reason \"old Android app\""
  ),
  Command.withExamples([
    { command: "herald rollout deny bob --reason \"old Android app\"", description: "Email only for bob" }
  ])
)
