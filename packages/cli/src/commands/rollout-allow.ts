/**
 * `herald rollout allow USER`: puts a user on the allow list, so they get
 * real-time notifications whatever the percentage, through the admin
 * `ChangeRollout` RPC (admin key).
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { applyChange, changeFlags, userArgument } from "../RolloutChanges.ts"

export const rolloutAllow = Command.make(
  "allow",
  { user: userArgument("The user to let in"), ...changeFlags },
  Effect.fn("herald.rollout.allow")(function*({ user, ...flags }) {
    yield* applyChange({ action: "allow", userId: user }, flags)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Give a user real-time notifications whatever the percentage"),
  Command.withDescription(
    "Put a user on the allow list: they get real-time notifications whatever the percentage (not while the kill " +
      "switch is on, nor while they are denied). Undo with herald rollout unallow. Prints the new state " +
      "(with --json, as one JSON object). Needs the admin key (--admin-key). " +
      "Example: herald rollout allow alice --reason \"beta tester\""
  ),
  Command.withExamples([
    { command: "herald rollout allow alice --reason \"beta tester\"", description: "Real-time for alice from now on" }
  ])
)
