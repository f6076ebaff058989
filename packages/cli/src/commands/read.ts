/**
 * `herald read`: marks notifications read, by id (`MarkRead`) or all of a
 * user's (`MarkAllRead`).
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { AppRpcs, NotificationId } from "@herald/domain"
import { Array as Arr, Effect } from "effect"
import { CliError, Command, Flag } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { printResult } from "../Output.ts"
import { user } from "../SharedFlags.ts"

export const read = Command.make(
  "read",
  {
    user: user("Whose notifications to mark read"),
    ids: Flag.String("id").pipe(
      Flag.withSchema(NotificationId),
      Flag.atLeast(0),
      Flag.withMetavar("ID"),
      Flag.withDescription("Id of a notification to mark read; repeat for several (--id A --id B)")
    ),
    all: Flag.Boolean("all").pipe(Flag.withDefault(false), Flag.withDescription("Mark all of the user's notifications read"))
  },
  Effect.fn("herald.read")(function*({ all, ids, user }) {
    const client = yield* HeraldClient
    let updated = 0
    if (all) {
      updated = yield* client.markAllRead(user)
    } else {
      // MarkRead takes at most MaxInboxPage ids per call.
      for (const chunk of Arr.chunksOf(ids, AppRpcs.MaxInboxPage)) {
        updated += yield* client.markRead(user, chunk)
      }
    }
    yield* printResult({ updated }, `marked ${updated} notification${updated === 1 ? "" : "s"} read`)
  })
).pipe(
  Command.validate(({ all, ids }) =>
    all === (ids.length > 0)
      ? Effect.fail(new CliError.ValidationError({ message: "pass either --id ID (repeatable) or --all" }))
      : Effect.void
  ),
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Mark notifications read"),
  Command.withDescription(
    "Mark some (--id, repeatable) or all (--all) of a user's notifications read and print how many changed " +
      "(\"marked N notifications read\"; ids already read or unknown are not counted); with --json, {\"updated\":N}. " +
      "Example: herald read --user alice --all"
  ),
  Command.withExamples([
    { command: "herald read --user alice --all", description: "Mark everything read" },
    {
      command: "herald read --user alice --id 019a6c2e-5b7e-7c1a-9f1e-4d3b2a1c0e9f --json",
      description: "Mark one notification read and print {\"updated\":N}"
    }
  ])
)
