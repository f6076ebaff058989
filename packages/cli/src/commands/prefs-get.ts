/**
 * `herald prefs get`: a user's effective preferences (their changes over the
 * defaults), through the `GetPreferences` RPC.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { preferencesJson, preferencesLines } from "../Format.ts"
import { printResult } from "../Output.ts"
import { user } from "../SharedFlags.ts"

export const prefsGet = Command.make(
  "get",
  { user: user("Whose preferences to show") },
  Effect.fn("herald.prefs.get")(function*({ user }) {
    const client = yield* HeraldClient
    const prefs = yield* client.getPreferences(user)
    yield* printResult(preferencesJson(prefs), preferencesLines(prefs))
  })
).pipe(
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Show a user's notification preferences"),
  Command.withDescription(
    "Show a user's effective preferences: per kind whether it shows in the app, goes out as a push and how it is emailed, " +
      "then the email address, whether the user existed before the rollout and when the digest email goes out " +
      "(schedule, time zone, whether read items are kept). With --json, the whole object on one line. " +
      "Example: herald prefs get --user alice"
  ),
  Command.withExamples([
    { command: "herald prefs get --user alice", description: "A table of alice's preferences" },
    { command: "herald prefs get --user alice --json", description: "The same as one JSON object" }
  ])
)
