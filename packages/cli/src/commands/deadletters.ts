/**
 * `herald deadletters`: the group of admin commands on deliveries that used
 * all their attempts: `list`, `retry`, `drop`.
 */
import { Command } from "effect/cli"
import { deadlettersList } from "./deadletters-list.ts"
import { deadlettersDrop, deadlettersRetry } from "./deadletters-settle.ts"

export const deadletters = Command.make("deadletters").pipe(
  Command.withSubcommands([deadlettersList, deadlettersRetry, deadlettersDrop]),
  Command.withShortDescription("List, retry or drop deliveries that used all their attempts (admin key)"),
  Command.withDescription(
    "Look at, retry or drop dead letters: push and email deliveries that used all their attempts. These commands use the admin key " +
      "(--admin-key, HERALD_ADMIN_KEY or the adminKey in secrets.json), not the app key. " +
      "Example: herald deadletters list --channel email"
  ),
  Command.withExamples([
    { command: "herald deadletters list", description: "The 100 newest dead letters" },
    { command: "herald deadletters list --user alice --channel email", description: "alice's dead emails" },
    { command: "herald deadletters retry --channel push", description: "Send the dead pushes again" }
  ])
)
