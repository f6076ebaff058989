/**
 * `herald digest`: the group of admin commands on a user's email digest;
 * `preview` (what it would contain) and `send-now` (make it due now).
 */
import { Command } from "effect/cli"
import { digestPreview } from "./digest-preview.ts"
import { digestSendNow } from "./digest-send-now.ts"

export const digest = Command.make("digest").pipe(
  Command.withSubcommands([digestPreview, digestSendNow]),
  Command.withShortDescription("Preview a user's email digest or send it now (admin key)"),
  Command.withDescription(
    "Look at or hurry a user's email digest: the one email that gathers the notifications routed to it " +
      "(herald prefs set --email digest), sent on the user's schedule (herald prefs set --digest …). " +
      "These commands use the admin key (--admin-key, HERALD_ADMIN_KEY or the adminKey in secrets.json), " +
      "not the app key. Example: herald digest preview --user alice"
  ),
  Command.withExamples([
    { command: "herald digest preview --user alice", description: "What alice's next digest contains and when it is due" },
    { command: "herald digest send-now --user alice", description: "Send alice's digest now instead of on her schedule" }
  ])
)
