/**
 * `herald rollout kill`: turns the kill switch on, so nobody gets real-time
 * notifications (everyone falls back to email), through the admin
 * `ChangeRollout` RPC (admin key).
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { applyChange, changeFlags } from "../RolloutChanges.ts"

export const rolloutKill = Command.make(
  "kill",
  changeFlags,
  Effect.fn("herald.rollout.kill")(function*(flags) {
    yield* applyChange({ action: "kill" }, flags)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Turn real-time notifications off for everyone (kill switch ON)"),
  Command.withDescription(
    "Turn the kill switch on: real-time notifications stop for every user, allowed ones included, and everyone " +
      "gets email only, on every node within a second. The percentage and the lists are kept for herald rollout " +
      "resume. The guard does the same by itself when a rollback trigger fails. Prints the new state " +
      "(with --json, as one JSON object). Needs the admin key (--admin-key). " +
      "Example: herald rollout kill --reason \"socket errors\""
  ),
  Command.withExamples([
    { command: "herald rollout kill --reason \"socket errors after deploy\"", description: "Stop real-time for everyone" }
  ])
)
