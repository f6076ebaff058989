/**
 * `herald rollout resume`: turns the kill switch off again, so the percentage
 * and the lists apply as before, through the admin `ChangeRollout` RPC
 * (admin key).
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { applyChange, changeFlags } from "../RolloutChanges.ts"

export const rolloutResume = Command.make(
  "resume",
  changeFlags,
  Effect.fn("herald.rollout.resume")(function*(flags) {
    yield* applyChange({ action: "resume" }, flags)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Turn the kill switch off again"),
  Command.withDescription(
    "Turn the kill switch off: real-time notifications resume for the users the percentage and the allow list " +
      "let in, as before the kill. Prints the new state (with --json, as one JSON object). " +
      "Needs the admin key (--admin-key). Example: herald rollout resume --reason \"fixed in 1.4.2\""
  ),
  Command.withExamples([
    { command: "herald rollout resume --reason \"fixed in 1.4.2\"", description: "Resume after a kill" }
  ])
)
