/**
 * The `herald` CLI as a long-running child process, for commands a test
 * watches or stops part way (`herald replay` interrupted with Ctrl-C): its
 * output so far can be read at any time, and a signal sent to it.
 */
import { Deferred, Effect, type Scope } from "effect"
import { spawn } from "node:child_process"
import { join } from "node:path"
import type { CliRun } from "./HeraldCli.ts"
import { repoRoot } from "./ServerProcess.ts"

export interface CliProcess {
  readonly stdout: () => string
  readonly stderr: () => string
  readonly signal: (signal: NodeJS.Signals) => Effect.Effect<void>
  /** The run once the process has exited. */
  readonly exited: Effect.Effect<CliRun>
}

const bin = join(repoRoot, "packages/cli/src/bin.ts")

/** Starts the CLI with `args` (HERALD_* variables of the test's environment are not passed on); killed when the scope closes. */
export const startCli = (args: ReadonlyArray<string>): Effect.Effect<CliProcess, never, Scope.Scope> =>
  Effect.gen(function*() {
    const done = yield* Deferred.make<CliRun>()
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("HERALD_")))
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...inherited, NO_COLOR: "1" } })),
      (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("close", (code, signal) => {
      Deferred.doneUnsafe(done, Effect.succeed({ code: code ?? (signal === null ? -1 : 128), stdout, stderr }))
    })
    return {
      stdout: () => stdout,
      stderr: () => stderr,
      signal: (signal) => Effect.sync(() => child.kill(signal)).pipe(Effect.asVoid),
      exited: Deferred.await(done)
    }
  })
