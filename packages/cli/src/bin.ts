#!/usr/bin/env node
/**
 * Entry point of the `herald` CLI (`pnpm herald …` from the repo root, or
 * `node packages/cli/src/bin.ts …`).
 *
 * Every failure ends here as exactly one `herald: …` line on stderr and a
 * non-zero exit code (2 for bad input, 1 otherwise); Ctrl-C exits with 130.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect } from "effect"
import { run } from "./Cli.ts"
import { ExitWith, report } from "./ErrorReport.ts"
import { stderrLine } from "./Output.ts"

// A closed pipe surfaces as a failed write (see Output.ts), not as an uncaught 'error' event.
const ignoreStreamErrors = Effect.sync(() => {
  process.stdout.on("error", () => {})
  process.stderr.on("error", () => {})
})

const main = ignoreStreamErrors.pipe(
  Effect.andThen(run),
  Effect.catchCause((cause) =>
    Effect.gen(function*() {
      if (Cause.hasInterruptsOnly(cause)) return yield* Effect.interrupt
      const { exitCode, message } = report(Cause.squash(cause))
      if (message !== undefined) yield* stderrLine(`herald: ${message}`).pipe(Effect.ignore)
      if (exitCode !== 0) return yield* new ExitWith({ code: exitCode })
    })
  ),
  Effect.provide(NodeServices.layer)
)

NodeRuntime.runMain(main, { disableErrorReporting: true })
