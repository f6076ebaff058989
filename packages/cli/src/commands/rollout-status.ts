/**
 * `herald rollout status`: the real-time rollout flag, how many users are in,
 * and the guard's rollback triggers and exit criteria with their live values,
 * through the admin `GetRollout` RPC (admin key).
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { printResult } from "../Output.ts"
import { rolloutStatusJson, rolloutStatusLines } from "../RolloutFormat.ts"

export const rolloutStatus = Command.make(
  "status",
  {},
  Effect.fn("herald.rollout.status")(function*() {
    const admin = yield* HeraldAdminClient
    const status = yield* admin.getRollout()
    yield* printResult(rolloutStatusJson(status), rolloutStatusLines(status))
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Show the rollout: percentage, kill switch, users in, triggers and exit criteria"),
  Command.withDescription(
    "Show the rollout of real-time notifications: the percentage of users it is on for, the kill switch (ON/off), " +
      "the flag provider, the allow and deny lists, how many known users are in, then every rollback trigger " +
      "and exit criterion with its value over the guard's window, its threshold and pass, fail or no-data " +
      "(ratios shown as percentages). With --json, the whole status as one JSON object. " +
      "Needs the admin key (--admin-key). Example: herald rollout status"
  ),
  Command.withExamples([
    { command: "herald rollout status", description: "Where the rollout stands and whether the guard is happy" },
    { command: "herald rollout status --json", description: "The same as one JSON object" }
  ])
)
