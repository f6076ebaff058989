/**
 * `herald prefs set`: changes some of a user's preferences through the
 * `UpdatePreferences` RPC and prints the effective ones, like `prefs get`.
 *
 * The per-kind flags (`--in-app`, `--push`, `--email`) change the kind named
 * by `--kind`, or all three kinds when `--kind` is omitted; anything not
 * named stays as it is.
 */
import { HeraldClient, type PreferencesPatchInput } from "@herald/client/HeraldClient"
import { EmailAddress, EmailRoute, kinds, NotificationKind } from "@herald/domain"
import { Effect, Option } from "effect"
import { CliError, Command, Flag } from "effect/cli"
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
    const patch: PreferencesPatchInput = {
      ...(Option.isSome(flags.existingBeforeRollout) ? { existingBeforeRollout: flags.existingBeforeRollout.value } : {}),
      ...(Option.isSome(flags.emailAddress) ? { emailAddress: flags.emailAddress.value } : {}),
      ...(flags.noEmailAddress ? { emailAddress: null } : {}),
      ...(Object.keys(change).length > 0 ? { kinds: Object.fromEntries(targets.map((kind) => [kind, change])) } : {})
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
    if (
      !perKind && Option.isNone(flags.emailAddress) && !flags.noEmailAddress &&
      Option.isNone(flags.existingBeforeRollout)
    ) {
      return usage(
        "nothing to change: pass at least one of --in-app, --push, --email, --email-address, --no-email-address, " +
          "--existing-before-rollout"
      )
    }
    return Effect.void
  }),
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Change a user's notification preferences"),
  Command.withDescription(
    "Change some of a user's preferences and print the effective ones, like prefs get. " +
      "--in-app, --push and --email change the kind given by --kind, or every kind without it; " +
      "what no flag names stays as it is. " +
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
    { command: "herald prefs set --user alice --no-email-address --json", description: "Forget the address; print JSON" }
  ])
)
