/**
 * `herald prefs set`: changes some of a user's preferences through the
 * `UpdatePreferences` RPC and prints the effective ones, like `prefs get`.
 *
 * The per-kind flags (`--in-app`, `--push`, `--email`) change the kind named
 * by `--kind`, or all three kinds when `--kind` is omitted; anything not
 * named stays as it is.
 *
 * The digest flags change when the user's digest goes out: `--digest` with
 * the `--at` and `--weekday` its schedule needs (the schedule is replaced as a
 * whole), `--time-zone` and `--digest-include-read` on their own.
 */
import { HeraldClient, type PreferencesPatchInput } from "@herald/client/HeraldClient"
import {
  type DigestSchedule,
  type DigestSettingsPatch,
  EmailAddress,
  EmailRoute,
  kinds,
  LocalTime,
  NotificationKind,
  TimeZone,
  Weekday
} from "@herald/domain"
import { Effect, Option, Result } from "effect"
import { CliError, Command, Flag } from "effect/cli"
import { UsageError } from "../CliErrors.ts"
import { HeraldClientLive } from "../Connection.ts"
import { preferencesJson, preferencesLines } from "../Format.ts"
import { printResult } from "../Output.ts"
import { user } from "../SharedFlags.ts"

/** A flag taking `on` or `off`, decoded to a boolean. */
const onOff = (name: string, description: string) =>
  Flag.ChoiceWithValue(name, [["on", true], ["off", false]] as const).pipe(
    Flag.withMetavar("on|off"),
    Flag.withDescription(description),
    Flag.optional
  )

const usage = (message: string) => Effect.fail(new CliError.ValidationError({ message }))

/** The digest frequencies `--digest` takes: the tags of `DigestSchedule`. */
const DigestFrequencies = ["hourly", "daily", "weekly"] as const satisfies ReadonlyArray<DigestSchedule["_tag"]>

interface ScheduleFlags {
  readonly digest: Option.Option<(typeof DigestFrequencies)[number]>
  readonly at: Option.Option<string>
  readonly weekday: Option.Option<Weekday>
}

/**
 * The schedule `--digest`, `--at` and `--weekday` name (none without
 * `--digest`), or why they do not make one.
 */
const digestSchedule = (
  { at, digest, weekday }: ScheduleFlags
): Result.Result<Option.Option<DigestSchedule>, string> => {
  if (Option.isNone(digest)) {
    if (Option.isSome(at)) return Result.fail("--at needs --digest daily or --digest weekly")
    if (Option.isSome(weekday)) return Result.fail("--weekday needs --digest weekly")
    return Result.succeed(Option.none())
  }
  switch (digest.value) {
    case "hourly":
      if (Option.isSome(at)) {
        return Result.fail("--digest hourly goes out at minute 00 of every hour and takes no --at")
      }
      if (Option.isSome(weekday)) return Result.fail("--weekday goes only with --digest weekly, not hourly")
      return Result.succeed(Option.some({ _tag: "hourly" }))
    case "daily":
      if (Option.isSome(weekday)) return Result.fail("--weekday goes only with --digest weekly, not daily")
      if (Option.isNone(at)) return Result.fail("--digest daily needs --at HH:MM (the local time it goes out)")
      return Result.succeed(Option.some({ _tag: "daily", at: at.value }))
    case "weekly":
      if (Option.isNone(weekday) && Option.isNone(at)) {
        return Result.fail("--digest weekly needs --weekday (monday to sunday) and --at HH:MM")
      }
      if (Option.isNone(weekday)) return Result.fail("--digest weekly needs --weekday (monday to sunday)")
      if (Option.isNone(at)) return Result.fail("--digest weekly needs --at HH:MM (the local time it goes out)")
      return Result.succeed(Option.some({ _tag: "weekly", weekday: weekday.value, at: at.value }))
  }
}

export const prefsSet = Command.make(
  "set",
  {
    user: user("Whose preferences to change"),
    kind: Flag.Literals("kind", NotificationKind.literals).pipe(
      Flag.withMetavar("KIND"),
      Flag.withDescription("The kind --in-app, --push and --email change; default: all three kinds"),
      Flag.optional
    ),
    inApp: onOff("in-app", "Show notifications of the kind live in the app"),
    push: onOff("push", "Send notifications of the kind to the user's devices as a push"),
    email: Flag.Literals("email", EmailRoute.literals).pipe(
      Flag.withMetavar("ROUTE"),
      Flag.withDescription("Email notifications of the kind: not at all, one email each, or in the digest"),
      Flag.optional
    ),
    emailAddress: Flag.String("email-address").pipe(
      Flag.withSchema(EmailAddress),
      Flag.withMetavar("ADDRESS"),
      Flag.withDescription("Where the user's email goes"),
      Flag.optional
    ),
    noEmailAddress: Flag.Boolean("no-email-address").pipe(
      Flag.withDefault(false),
      Flag.withoutNegation,
      Flag.withDescription("Forget the user's email address (email routes then send nothing)")
    ),
    existingBeforeRollout: Flag.ChoiceWithValue("existing-before-rollout", [["true", true], ["false", false]] as const)
      .pipe(
        Flag.withMetavar("true|false"),
        Flag.withDescription(
          "Whether the user had email alerts before the rollout (email-first defaults: email immediate, push off)"
        ),
        Flag.optional
      ),
    digest: Flag.Literals("digest", DigestFrequencies).pipe(
      Flag.withMetavar("hourly|daily|weekly"),
      Flag.withDescription(
        "How often the digest email goes out: hourly (on the hour), daily (needs --at) or weekly (needs --weekday and --at)"
      ),
      Flag.optional
    ),
    at: Flag.String("at").pipe(
      Flag.withSchema(LocalTime.annotate({ message: "Expected a time as HH:MM on a 24-hour clock (00:00 to 23:59)" })),
      Flag.withMetavar("HH:MM"),
      Flag.withDescription("With --digest daily or weekly: the local time the digest goes out, 24-hour clock"),
      Flag.optional
    ),
    weekday: Flag.Literals("weekday", Weekday.literals).pipe(
      Flag.withMetavar("WEEKDAY"),
      Flag.withDescription("With --digest weekly: the day it goes out, monday to sunday"),
      Flag.optional
    ),
    timeZone: Flag.String("time-zone").pipe(
      Flag.withSchema(TimeZone.annotate({ message: "Expected an IANA time zone such as Europe/London or America/New_York" })),
      Flag.withMetavar("ZONE"),
      Flag.withDescription("The IANA time zone the digest schedule is read in, such as Europe/London"),
      Flag.optional
    ),
    digestIncludeRead: Flag.ChoiceWithValue("digest-include-read", [["true", true], ["false", false]] as const).pipe(
      Flag.withMetavar("true|false"),
      Flag.withDescription("Whether the digest keeps notifications the user already read in the app (default false)"),
      Flag.optional
    )
  },
  Effect.fn("herald.prefs.set")(function*(flags) {
    const client = yield* HeraldClient
    const change = {
      ...(Option.isSome(flags.inApp) ? { inApp: flags.inApp.value } : {}),
      ...(Option.isSome(flags.push) ? { push: flags.push.value } : {}),
      ...(Option.isSome(flags.email) ? { email: flags.email.value } : {})
    }
    const targets = Option.isSome(flags.kind) ? [flags.kind.value] : kinds
    // Command.validate (below) has refused these already; checked again for the types.
    const schedule = digestSchedule(flags)
    if (Result.isFailure(schedule)) return yield* new UsageError({ message: schedule.failure })
    const digest: DigestSettingsPatch = {
      ...(Option.isSome(schedule.success) ? { schedule: schedule.success.value } : {}),
      ...(Option.isSome(flags.timeZone) ? { timeZone: flags.timeZone.value } : {}),
      ...(Option.isSome(flags.digestIncludeRead) ? { includeRead: flags.digestIncludeRead.value } : {})
    }
    const patch: PreferencesPatchInput = {
      ...(Option.isSome(flags.existingBeforeRollout) ? { existingBeforeRollout: flags.existingBeforeRollout.value } : {}),
      ...(Option.isSome(flags.emailAddress) ? { emailAddress: flags.emailAddress.value } : {}),
      ...(flags.noEmailAddress ? { emailAddress: null } : {}),
      ...(Object.keys(change).length > 0 ? { kinds: Object.fromEntries(targets.map((kind) => [kind, change])) } : {}),
      ...(Object.keys(digest).length > 0 ? { digest } : {})
    }
    const prefs = yield* client.updatePreferences(flags.user, patch)
    yield* printResult(preferencesJson(prefs), preferencesLines(prefs))
  })
).pipe(
  Command.validate((flags) => {
    const perKind = Option.isSome(flags.inApp) || Option.isSome(flags.push) || Option.isSome(flags.email)
    if (Option.isSome(flags.emailAddress) && flags.noEmailAddress) {
      return usage("pass either --email-address ADDRESS or --no-email-address, not both")
    }
    if (Option.isSome(flags.kind) && !perKind) {
      return usage("--kind needs a change for that kind: --in-app, --push or --email")
    }
    const schedule = digestSchedule(flags)
    if (Result.isFailure(schedule)) return usage(schedule.failure)
    const digest = Option.isSome(flags.digest) || Option.isSome(flags.timeZone) ||
      Option.isSome(flags.digestIncludeRead)
    if (
      !perKind && !digest && Option.isNone(flags.emailAddress) && !flags.noEmailAddress &&
      Option.isNone(flags.existingBeforeRollout)
    ) {
      return usage(
        "nothing to change: pass at least one of --in-app, --push, --email, --email-address, --no-email-address, " +
          "--existing-before-rollout, --digest, --time-zone, --digest-include-read"
      )
    }
    return Effect.void
  }),
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Change a user's notification preferences"),
  Command.withDescription(
    "Change some of a user's preferences and print the effective ones, like prefs get: a table of kinds and " +
      "channels, then the email address and digest settings; with --json, the whole object on one line. " +
      "--in-app, --push and --email change the kind given by --kind, or every kind without it; " +
      "what no flag names stays as it is. " +
      "--digest sets when the digest email goes out (hourly; daily with --at; weekly with --weekday and --at), " +
      "in the user's --time-zone; --digest-include-read keeps items already read in the app. " +
      "Example: herald prefs set --user alice --kind status_update --push off --email digest"
  ),
  Command.withExamples([
    {
      command: "herald prefs set --user alice --kind status_update --push off --email digest",
      description: "Status updates: no push, email in the digest"
    },
    { command: "herald prefs set --user alice --in-app on", description: "Show every kind in the app" },
    {
      command: "herald prefs set --user alice --email-address alice@example.com --existing-before-rollout true",
      description: "Set the address and give alice the email-first defaults"
    },
    {
      command: "herald prefs set --user alice --digest weekly --weekday monday --at 08:30 --time-zone Europe/London",
      description: "Send alice's digest on Mondays at 08:30 London time"
    },
    {
      command: "herald prefs set --user alice --digest hourly --digest-include-read true",
      description: "Hourly digests that keep read items"
    },
    { command: "herald prefs set --user alice --no-email-address --json", description: "Forget the address; print JSON" }
  ])
)
