/**
 * What every change command of `herald rollout` shares: the `--reason` and
 * `--actor` flags, the positional USER of the allow and deny commands, and
 * sending the change and printing the state after it.
 */
import { HeraldAdminClient, type RolloutCommandInput } from "@herald/client/HeraldAdminClient"
import { Actor } from "@herald/domain"
import { Effect, Option } from "effect"
import { Argument, Flag } from "effect/cli"
import { hostname, userInfo } from "node:os"
import { printResult } from "./Output.ts"
import { rolloutStateJson, rolloutStateLine } from "./RolloutFormat.ts"
import { UserIdInput } from "./SharedFlags.ts"

/** `--reason` and `--actor`, which every change takes; spread them into a command's config. */
export const changeFlags = {
  // Its length is checked by the client before sending, with the server's own rule.
  reason: Flag.String("reason").pipe(
    Flag.withMetavar("TEXT"),
    Flag.withDescription("Why the change is made; kept in the audit history (herald rollout history)"),
    Flag.optional
  ),
  actor: Flag.String("actor").pipe(
    Flag.withSchema(Actor),
    Flag.withMetavar("NAME"),
    Flag.withDescription("Who makes the change, for the audit history (default: your login name @ this host)"),
    Flag.optional
  )
} as const

/** The positional USER of `rollout allow`, `deny`, `unallow` and `undeny`, checked like the server checks it. */
export const userArgument = (description: string) =>
  Argument.String("user").pipe(
    Argument.withSchema(UserIdInput),
    Argument.withMetavar("USER"),
    Argument.withDescription(description)
  )

// userInfo() throws when the process's uid has no passwd entry (some containers); the environment may still say.
const loginName = Effect.try(() => userInfo().username).pipe(
  Effect.orElseSucceed(() => process.env["USER"] ?? process.env["USERNAME"] ?? ""),
  Effect.map((name) => name === "" ? "unknown" : name)
)

/** `login@host`, who a change is recorded as when `--actor` is not given (at most 200 characters, as `Actor` allows). */
export const defaultActor: Effect.Effect<string> = Effect.map(
  loginName,
  (name) => `${name}@${hostname() || "localhost"}`.slice(0, 200)
)

interface ChangeFlags {
  readonly reason: Option.Option<string>
  readonly actor: Option.Option<string>
}

/** Sends `command` as `--actor` (or the default actor) with `--reason`, then prints the state after it. */
export const applyChange = Effect.fnUntraced(function*(command: RolloutCommandInput, flags: ChangeFlags) {
  const admin = yield* HeraldAdminClient
  const actor = Option.isSome(flags.actor) ? flags.actor.value : yield* defaultActor
  const state = yield* admin.changeRollout({
    ...command,
    actor,
    ...(Option.isSome(flags.reason) ? { reason: flags.reason.value } : {})
  })
  yield* printResult(rolloutStateJson(state), rolloutStateLine(state))
})
