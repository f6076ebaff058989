/**
 * `herald deadletters retry` and `herald deadletters drop`: act on the
 * newest dead letters matching the filters, through the admin
 * `RetryDeadLetters` / `DropDeadLetters` RPCs. `--dry-run` only counts.
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { AdminRpcs } from "@herald/domain"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { stdoutLine } from "../Output.ts"
import { herald } from "../Root.ts"
import { type FilterValues, filterFlags, filterInput } from "../FilterFlags.ts"
import { intBetween } from "../SharedFlags.ts"

const MaxSettle = 100_000

const selectionFlags = {
  ...filterFlags("dead letters"),
  channel: Flag.Literals("channel", AdminRpcs.DeliveryChannel.literals).pipe(
    Flag.withMetavar("CHANNEL"),
    Flag.withDescription("Only the dead letters of this channel"),
    Flag.optional
  ),
  limit: intBetween("limit", 1, MaxSettle, `At most this many, newest first (1-${MaxSettle}, default 1000)`).pipe(Flag.optional),
  dryRun: Flag.Boolean("dry-run").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Only count what would be acted on; change nothing")
  )
}

const selectionOf = (flags: FilterValues & {
  readonly channel: Option.Option<string>
  readonly limit: Option.Option<number>
  readonly dryRun: boolean
}) => ({
  ...filterInput(flags, Date.now()),
  ...(Option.isSome(flags.channel) ? { channel: flags.channel.value } : {}),
  ...(Option.isSome(flags.limit) ? { limit: flags.limit.value } : {}),
  dryRun: flags.dryRun
})

const report = (verb: string, dryRun: boolean, outcome: { readonly selected: number; readonly changed: number }) =>
  Effect.gen(function*() {
    const { json } = yield* herald
    if (json) return yield* stdoutLine(JSON.stringify({ ...outcome, dryRun }))
    yield* stdoutLine(
      dryRun
        ? `${outcome.selected} dead letter${outcome.selected === 1 ? "" : "s"} would be ${verb} (dry run: nothing changed)`
        : `${verb} ${outcome.changed} dead letter${outcome.changed === 1 ? "" : "s"}`
    )
  })

export const deadlettersRetry = Command.make(
  "retry",
  selectionFlags,
  Effect.fn("herald.deadletters.retry")(function*(flags) {
    const admin = yield* HeraldAdminClient
    const outcome = yield* admin.retryDeadLetters(selectionOf(flags))
    yield* report("retried", flags.dryRun, outcome)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Send dead letters again through the normal delivery path"),
  Command.withDescription(
    "Put the newest dead letters matching the filters back on the normal delivery path, with a fresh set of " +
      "attempts. Only dead deliveries are touched, and those were never sent, so nothing goes out twice. " +
      "Prints how many were retried (or would be, with --dry-run); with --json one object {\"selected\",\"changed\",\"dryRun\"}. " +
      "Needs the admin key. Example: herald deadletters retry --channel push --dry-run"
  ),
  Command.withExamples([
    { command: "herald deadletters retry --channel push --dry-run", description: "How many dead pushes a retry would send" },
    { command: "herald deadletters retry --user alice", description: "Retry alice's dead letters" }
  ])
)

export const deadlettersDrop = Command.make(
  "drop",
  {
    ...selectionFlags,
    reason: Flag.String("reason").pipe(
      Flag.withDescription("Why (kept as the delivery's last error)"),
      Flag.optional
    )
  },
  Effect.fn("herald.deadletters.drop")(function*(flags) {
    const admin = yield* HeraldAdminClient
    const outcome = yield* admin.dropDeadLetters({
      ...selectionOf(flags),
      ...(Option.isSome(flags.reason) ? { reason: flags.reason.value } : {})
    })
    yield* report("dropped", flags.dryRun, outcome)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Give dead letters up for good"),
  Command.withDescription(
    "Mark the newest dead letters matching the filters as discarded: they leave the dead-letter list and are " +
      "never sent. Prints how many were dropped (or would be, with --dry-run); with --json one object " +
      "{\"selected\",\"changed\",\"dryRun\"}. Needs the admin key. Example: herald deadletters drop --user bob --reason 'account deleted'"
  ),
  Command.withExamples([
    { command: "herald deadletters drop --user bob --reason 'account deleted'", description: "Drop bob's dead letters" },
    { command: "herald deadletters drop --channel email --dry-run", description: "Count the dead emails a drop would remove" }
  ])
)
