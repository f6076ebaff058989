/**
 * `herald deadletters list`: deliveries that used all their attempts, newest
 * first, through the admin `ListDeadLetters` RPC (admin key).
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { AdminRpcs } from "@herald/domain"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { deadLetterJson, deadLettersTable } from "../Format.ts"
import { stdoutLine } from "../Output.ts"
import { herald } from "../Root.ts"
import { filterFlags, filterInput } from "../FilterFlags.ts"
import { intBetween } from "../SharedFlags.ts"

/** The most the server lists at once (`AdminRpcs.ListDeadLetters`); it lists 100 when no --limit is given. */
const MaxDeadLetters = 500

export const deadlettersList = Command.make(
  "list",
  {
    ...filterFlags("dead letters"),
    channel: Flag.Literals("channel", AdminRpcs.DeliveryChannel.literals).pipe(
      Flag.withMetavar("CHANNEL"),
      Flag.withDescription("Only the dead letters of this channel"),
      Flag.optional
    ),
    limit: intBetween("limit", 1, MaxDeadLetters, `How many dead letters to list (1-${MaxDeadLetters}, default 100)`)
      .pipe(Flag.optional)
  },
  Effect.fn("herald.deadletters.list")(function*(flags) {
    const { channel, limit } = flags
    const { json } = yield* herald
    const admin = yield* HeraldAdminClient
    const items = yield* admin.listDeadLetters({
      ...filterInput(flags, Date.now()),
      ...(Option.isSome(channel) ? { channel: channel.value } : {}),
      ...(Option.isSome(limit) ? { limit: limit.value } : {})
    })
    if (json) {
      for (const item of items) yield* stdoutLine(JSON.stringify(deadLetterJson(item)))
      return
    }
    if (items.length === 0) {
      yield* stdoutLine("no dead letters")
      return
    }
    for (const line of deadLettersTable(items)) yield* stdoutLine(line)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("List deliveries that used all their attempts, newest first"),
  Command.withDescription(
    "List dead letters (push and email deliveries that used all their attempts), newest first: a table " +
      "(long targets shortened), or one JSON object per dead letter with --json. Needs the admin key (--admin-key). " +
      "Example: herald deadletters list --user alice --channel push"
  ),
  Command.withExamples([
    { command: "herald deadletters list --user alice --channel push", description: "alice's dead pushes" },
    { command: "herald deadletters list --limit 20 --json", description: "The 20 newest dead letters, as JSON lines" },
    { command: "herald deadletters list --kind mention --since 2h", description: "Dead letters of mentions published in the last 2 hours" }
  ])
)
