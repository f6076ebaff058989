/**
 * `herald digest send-now`: makes a user's digest due now instead of on
 * their schedule, through the admin `SendDigestNow` RPC (admin key). The
 * server's digest worker sends it moments later.
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { itemCount } from "../Format.ts"
import { printResult } from "../Output.ts"
import { user } from "../SharedFlags.ts"

export const digestSendNow = Command.make(
  "send-now",
  { user: user("Whose digest to send now") },
  Effect.fn("herald.digest.sendNow")(function*({ user }) {
    const admin = yield* HeraldAdminClient
    const items = yield* admin.sendDigestNow(user)
    yield* printResult(
      { items },
      items === 0 ? `nothing to send for ${user}` : `digest for ${user} is due now: ${itemCount(items)}`
    )
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Send a user's digest now instead of on their schedule"),
  Command.withDescription(
    "Make a user's email digest due now: the server sends it moments later, with every notification waiting for it. " +
      "Prints how many items it holds (0: nothing is waiting and nothing is sent); " +
      "with --json, {\"items\":N}. Needs the admin key (--admin-key). Example: herald digest send-now --user alice"
  ),
  Command.withExamples([
    { command: "herald digest send-now --user alice", description: "Send alice's waiting digest now" },
    { command: "herald digest send-now --user alice --json", description: "The same, printing {\"items\":N}" }
  ])
)
