/**
 * Turns whatever ended a `herald` run into the one line it prints on stderr
 * and the exit code: 2 for bad input (flags, invalid requests, no API key),
 * 1 for everything else. No stack traces: an unexpected defect is reported by
 * its message too.
 */
import { SocketAuthError, SocketOptionsError } from "@herald/client/SocketErrors"
import { InvalidRequest, RateLimited, ServerUnreachable, StorageUnavailable, Unauthorized } from "@herald/domain"
import { Predicate, Runtime, Schema } from "effect"
import { CliError } from "effect/cli"
import { OutputClosed, UsageError } from "./CliErrors.ts"

export interface Report {
  /** The line to print after `herald: `, or undefined to print nothing. */
  readonly message: string | undefined
  readonly exitCode: number
}

export const ExitCodes = { failure: 1, usage: 2 } as const

const line = (text: string) => text.replace(/\s*[\r\n]+\s*/g, " ").trim()

// Flag schemas fail with "Expected: Schema validation failed: Expected …"; once is enough.
const cliErrorLine = (error: CliError.CliError) => line(error.message.replace("Expected: Schema validation failed: ", ""))

// The client may report only the transport error's tag ("HttpError:"), which tells a reader nothing.
const unreachableDetail = (message: string) => {
  const detail = message.replace(/^\w*Error:?\s*/, "").trim()
  return detail === "" ? "no answer (is the server running?)" : detail
}

const usage = (message: string): Report => ({ message: line(message), exitCode: ExitCodes.usage })
const failure = (message: string): Report => ({ message: line(message), exitCode: ExitCodes.failure })

/** The report for a failure or defect of a run; interruptions never get here. */
export const report = (error: unknown): Report => {
  if (error instanceof InvalidRequest) return usage(`invalid request: ${error.message}`)
  if (error instanceof Unauthorized) return failure(`unauthorized: ${error.message}`)
  if (error instanceof RateLimited) return failure(`rate limited: ${error.message}`)
  if (error instanceof ServerUnreachable) return failure(`cannot reach ${error.url}: ${unreachableDetail(error.message)}`)
  if (error instanceof StorageUnavailable) {
    return failure(`storage unavailable: ${error.message}${error.retryable ? " (safe to retry)" : ""}`)
  }
  if (error instanceof UsageError) return usage(error.message)
  if (error instanceof SocketAuthError) return failure(`socket refused the token: ${error.message}`)
  if (error instanceof SocketOptionsError) return usage(`invalid socket options: ${error.message}`)
  // The reader of our output went away (`herald tail | head -3`): nothing left to tell anyone.
  if (error instanceof OutputClosed) return { message: undefined, exitCode: 0 }
  if (CliError.isCliError(error)) {
    if (error._tag !== "ShowHelp") return usage(cliErrorLine(error))
    // Help without errors (`herald` alone) was already printed.
    if (error.errors.length === 0) return { message: undefined, exitCode: 0 }
    const hint = `(see: ${error.commandPath.join(" ")} --help)`
    return usage(`${error.errors.map(cliErrorLine).join("; ")} ${hint}`)
  }
  const message = Predicate.hasProperty(error, "message") && Predicate.isString(error.message)
    ? error.message
    : String(error)
  return failure(`unexpected error: ${message}`)
}

/** Ends the run with `code`; the report line has already been printed. */
export class ExitWith extends Schema.TaggedError<ExitWith>()("ExitWith", {
  code: Schema.Int
}) {
  override readonly [Runtime.errorExitCode] = this.code
  override readonly [Runtime.errorReported] = false
}
