/**
 * `herald rollout undeny USER`: takes a user off the deny list, so the
 * percentage and the allow list decide for them again, through the admin
 * `ChangeRollout` RPC (admin key).
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { applyChange, changeFlags, userArgument } from "../RolloutChanges.ts"

export const rolloutUndeny = Command.make(
  "undeny",
  { user: userArgument("The user to take off the deny list"), ...changeFlags },
  Effect.fn("herald.rollout.undeny")(function*({ user, ...flags }) {
    yield* applyChange({ action: "undeny", userId: user }, flags)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Take a user off the deny list"),
  Command.withDescription(
    "Take a user off the deny list: whether they get real-time notifications is up to the percentage and the " +
      "allow list again. Prints the new state (with --json, as one JSON object). " +
      "Needs the admin key (--admin-key). Example: herald rollout undeny bob"
  ),
  Command.withExamples([
    { command: "herald rollout undeny bob", description: "bob follows the percentage again" }
  ])
)
