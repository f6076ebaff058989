/**
 * The root `herald` command and the flags it shares with every subcommand.
 *
 * Subcommands read the shared flags by yielding this command
 * (`const { json, url } = yield* herald`), which is why it lives in its own
 * module: `Cli.ts` composes the subcommands onto it, and each subcommand
 * imports it without importing `Cli.ts`.
 */
import { Command } from "effect/cli"
import { sharedFlags } from "./SharedFlags.ts"

export const herald = Command.make("herald").pipe(
  Command.withSharedFlags(sharedFlags),
  Command.withDescription(
    "Herald maintainer CLI: publish test notifications, watch a user's socket, read inboxes, issue client tokens, " +
      "show or change a user's preferences and push devices, list, retry or drop dead letters, replay deliveries after an outage (with progress and resume), preview or send a user's digest, show or change the rollout of real-time notifications, and inspect everything about one user's notifications. " +
      "Flags --url, --api-key, --admin-key and --json work with every command, before or after its name; " +
      "--admin-key is read only by the admin commands (deadletters, replay, digest, rollout, stats, user), --api-key by the others. " +
      "Example: herald send --user alice --kind mention --title \"Bob mentioned you\""
  ),
  Command.withExamples([
    { command: "herald send --user alice --kind mention --title \"Bob mentioned you\"", description: "Publish one notification" },
    { command: "herald tail --user alice --json", description: "Print alice's notifications as they arrive" },
    { command: "herald inbox --user alice --unread", description: "List alice's unread notifications" },
    { command: "herald prefs get --user alice", description: "Show alice's notification preferences" },
    { command: "herald deadletters list --channel push", description: "List pushes that used all their attempts" },
    { command: "herald replay --channel push --status dead --since 2h --dry-run", description: "What a replay of the last 2 hours' dead pushes would send" },
    { command: "herald digest preview --user alice", description: "Show what alice's next email digest contains" },
    { command: "herald rollout status", description: "Show the rollout of real-time notifications and its guard" },
    { command: "herald user alice", description: "Why alice did or did not get her notifications" }
  ])
)
