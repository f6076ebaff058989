/**
 * `herald replay`: re-delivers what the filters select, after an outage or a
 * bad deploy, through the admin `PlanReplay` and `ReplayPage` RPCs (admin key).
 *
 * The replay is planned once, then streamed through the server one page at
 * a time at no more than `--rate` items a second, with a progress bar on a
 * terminal. Ctrl-C (or an error) stops it between pages and prints a token;
 * `--resume TOKEN` goes on from there. Any token of a replay is safe to
 * resume from: the server stamps what the replay acted on, so nothing is
 * replayed twice.
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { addReplayCounts, emptyReplayCounts, type ReplayPosition, ReplayChannel, ReplayStatus } from "@herald/domain"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../CliErrors.ts"
import { HeraldAdminClientLive } from "../Connection.ts"
import { filterFlags, filterInput } from "../FilterFlags.ts"
import { note, printResult } from "../Output.ts"
import { makeProgress } from "../Progress.ts"
import { channelsOffLines, planHeadline, planJson, planLines, type ReplaySummary, summaryJson, summaryLines } from "../ReplayFormat.ts"
import { decodeToken, encodeToken, type ReplayToken } from "../ReplayToken.ts"
import { positiveInt } from "../SharedFlags.ts"

const DefaultRate = 200
/** The most items one page may hold (`ReplayPage`'s limit). */
const MaxPage = 500

const flags = {
  ...filterFlags("deliveries"),
  channel: Flag.Literals("channel", ReplayChannel.literals).pipe(
    Flag.withMetavar("CHANNEL"),
    Flag.withDescription("Only this channel: in_app (open sockets), push or email"),
    Flag.optional
  ),
  status: Flag.Literals("status", ReplayStatus.literals).pipe(
    Flag.withMetavar("STATUS"),
    Flag.withDescription(
      "Only deliveries in this state: failed (waiting for a retry), dead (out of attempts) or sent; in-app items count as sent"
    ),
    Flag.optional
  ),
  force: Flag.Boolean("force").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Also send again push and email deliveries already sent (counted as forced); without it they are skipped")
  ),
  dryRun: Flag.Boolean("dry-run").pipe(
    Flag.withDefault(false),
    Flag.withDescription("Only show what would be replayed, by channel and state; change nothing")
  ),
  rate: positiveInt("rate", "N", `At most N items a second (default ${DefaultRate})`).pipe(Flag.optional),
  resume: Flag.String("resume").pipe(
    Flag.withMetavar("TOKEN"),
    Flag.withDescription("Go on with a stopped replay from the token it printed (its filters and --force come with it)"),
    Flag.optional
  )
}

/** Runs the replay from `start` to its end, or until interrupted or failed; then prints its summary. */
const runReplay = Effect.fnUntraced(function*(start: ReplayToken, rate: number) {
  const admin = yield* HeraldAdminClient
  const progress = makeProgress("replay")
  const startedAt = Date.now()
  const limit = Math.min(MaxPage, rate)
  let token = start
  let position: ReplayPosition | null = start.position
  let handled = 0
  const summary = (complete: boolean): ReplaySummary => ({
    counts: token.done,
    complete,
    resume: complete ? null : encodeToken(token),
    seconds: (Date.now() - startedAt) / 1000
  })
  const stopped = Effect.gen(function*() {
    yield* progress.end
    yield* printResult(summaryJson(summary(false)), summaryLines(summary(false), token.force))
  }).pipe(Effect.ignore)

  yield* Effect.gen(function*() {
    while (position !== null) {
      const page = yield* admin.replayPage({
        run: token.run,
        selection: token.selection,
        position,
        limit,
        force: token.force
      })
      position = page.next
      token = { ...token, position: page.next ?? token.position, done: addReplayCounts(token.done, page.counts) }
      handled += page.counts.selected
      const elapsed = (Date.now() - startedAt) / 1000
      yield* progress.update({
        done: token.done.selected,
        total: Math.max(token.planned, token.done.selected),
        delivered: token.done.delivered,
        failed: token.done.failed,
        skipped: token.done.skipped,
        rate: elapsed > 0 ? handled / elapsed : 0
      })
      // Paced on what this run has handled, so a slow page is not followed by a burst.
      const wait = startedAt + (handled / rate) * 1000 - Date.now()
      if (position !== null && wait > 0) yield* Effect.sleep(wait)
    }
  }).pipe(
    Effect.onInterrupt(() => stopped),
    Effect.tapError(() => stopped)
  )
  yield* progress.end
  yield* printResult(summaryJson(summary(true)), summaryLines(summary(true), token.force))
})

export const replay = Command.make(
  "replay",
  flags,
  Effect.fn("herald.replay")(function*(given) {
    const admin = yield* HeraldAdminClient
    const rate = Option.getOrElse(given.rate, () => DefaultRate)
    if (Option.isSome(given.resume)) {
      const filters = [given.user, given.kind, given.since, given.until, given.channel, given.status]
      if (filters.some(Option.isSome) || given.force || given.dryRun) {
        return yield* new UsageError({
          message: "--resume carries the replay's filters and --force; pass only --rate (and --json) with it"
        })
      }
      const token = yield* decodeToken(given.resume.value)
      yield* note(`resuming replay ${token.run.replayId}: ${token.done.selected.toLocaleString("en-US")} of ${token.planned.toLocaleString("en-US")} done before`)
      return yield* runReplay(token, rate)
    }
    const plan = yield* admin.planReplay({
      ...filterInput(given, Date.now()),
      ...(Option.isSome(given.channel) ? { channel: given.channel.value } : {}),
      ...(Option.isSome(given.status) ? { status: given.status.value } : {})
    })
    if (given.dryRun || plan.selected === 0) return yield* printResult(planJson(plan, given.force), planLines(plan, given.force))
    const start: ReplayToken = {
      v: 1,
      run: plan.run,
      selection: plan.selection,
      force: given.force,
      position: plan.start,
      done: emptyReplayCounts,
      planned: plan.selected
    }
    yield* note(planHeadline(plan, given.force))
    for (const line of channelsOffLines(plan)) yield* note(line)
    yield* note(`if this stops, resume with: herald replay --resume ${encodeToken(start)}`)
    yield* runReplay(start, rate)
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Re-deliver selected notifications after an outage: dead or failed pushes and emails, in-app to open sockets (admin key)"),
  Command.withDescription(
    "Re-deliver what the filters select, through the normal delivery path: failed and dead push and email deliveries get " +
      "fresh attempts; in-app items go to the user's open sockets with their original ids (clients drop ids they have shown, " +
      "and the inbox already has them). Push and email deliveries already sent are skipped unless --force. " +
      "--dry-run shows what would happen and changes nothing. The replay streams through the server in pages at up to " +
      "--rate items a second, with a progress bar on a terminal (plain lines otherwise, on stderr), and ends with a summary " +
      "(selected, delivered, failed, queued, skipped, forced; one JSON object with --json). Ctrl-C stops it and prints a " +
      "--resume token; resuming never replays anything twice. Needs the admin key. " +
      "Example: herald replay --channel push --status dead --since 2h --dry-run"
  ),
  Command.withExamples([
    { command: "herald replay --channel push --status dead --since 2h --dry-run", description: "What a replay of the last 2 hours' dead pushes would send" },
    { command: "herald replay --channel push --status dead --since 2h --rate 500", description: "Send them again, 500 a second" },
    { command: "herald replay --user alice --channel in_app --since 2026-11-30T10:00:00Z", description: "Show alice's notifications since then on her open sockets again" },
    { command: "herald replay --user bob --channel email --status sent --force", description: "Send bob's emails again, even those already sent" },
    { command: "herald replay --resume hr1.eyJ2Ijox…", description: "Go on with a replay that was stopped" }
  ])
)
