/**
 * `herald prefs`: the group of `get` and `set`, a user's notification
 * preferences.
 */
import { Command } from "effect/cli"
import { prefsGet } from "./prefs-get.ts"
import { prefsSet } from "./prefs-set.ts"

export const prefs = Command.make("prefs").pipe(
  Command.withSubcommands([prefsGet, prefsSet]),
  Command.withShortDescription("Show or change a user's notification preferences"),
  Command.withDescription(
    "Show (get) or change (set) how a user is told about each kind of notification: in the app, by push, by email. " +
      "Example: herald prefs set --user alice --kind mention --push on"
  ),
  Command.withExamples([
    { command: "herald prefs get --user alice", description: "Show alice's preferences" },
    { command: "herald prefs set --user alice --kind mention --push on", description: "Push mentions to alice's devices" }
  ])
)
