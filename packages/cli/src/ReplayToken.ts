/**
 * The resume token of `herald replay`: everything a replay needs to go on
 * from where it stopped (its planned run, selection, `--force`, the position
 * of its next page and what it has done so far), as URL-safe base64 of JSON.
 *
 * Any token of a replay is safe to resume from, even an older one: rows the
 * replay already acted on carry its id and are not acted on again (see
 * `ReplayPage`). A newer token only saves re-reading them.
 */
import { ReplayCounts, ReplayPosition, ReplayRun, ReplaySelection } from "@herald/domain"
import { Effect, Schema } from "effect"
import { UsageError } from "./CliErrors.ts"

export const ReplayToken = Schema.Struct({
  v: Schema.Literal(1),
  run: ReplayRun,
  selection: ReplaySelection,
  force: Schema.Boolean,
  position: ReplayPosition,
  /** What the replay has done so far, so the final summary covers the whole replay. */
  done: ReplayCounts,
  /** What the plan selected: the progress bar's total. */
  planned: Schema.Int
})
export type ReplayToken = typeof ReplayToken.Type

const TokenJson = Schema.fromJsonString(ReplayToken)
const encodeJson = Schema.encodeSync(TokenJson)
const decodeJson = Schema.decodeUnknownEffect(TokenJson)

const TokenPrefix = "hr1."

export const encodeToken = (token: ReplayToken): string =>
  TokenPrefix + Buffer.from(encodeJson(token), "utf8").toString("base64url")

export const decodeToken = (text: string): Effect.Effect<ReplayToken, UsageError> => {
  const invalid = (why: string) =>
    new UsageError({ message: `--resume: not a replay token (${why}); use the token herald replay printed` })
  if (!text.startsWith(TokenPrefix)) return Effect.fail(invalid(`it should start with ${TokenPrefix}`))
  return decodeJson(Buffer.from(text.slice(TokenPrefix.length), "base64url").toString("utf8")).pipe(
    Effect.mapError((error) => invalid(error.message.split("\n")[0] ?? "it does not decode"))
  )
}
