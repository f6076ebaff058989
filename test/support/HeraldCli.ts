/**
 * The `herald` CLI as users run it: `node packages/cli/src/bin.ts` in a child
 * process, asynchronously, so an in-process test server keeps answering
 * while the child runs. HERALD_* variables of the test's own environment are
 * not passed on, so only what a test gives counts.
 */
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { join } from "node:path"
import { repoRoot } from "./ServerProcess.ts"

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const bin = join(repoRoot, "packages/cli/src/bin.ts")

/** Runs the CLI with exactly `args`, and `env` on top of the (HERALD_*-free) environment. */
export const runCli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): Effect.Effect<CliRun> =>
  Effect.callback<CliRun>((resume) => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("HERALD_")))
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repoRoot, env: { ...inherited, NO_COLOR: "1", ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
  })

/** The non-empty lines of a command's output. */
export const lines = (text: string): ReadonlyArray<string> => text.split("\n").filter((line) => line.length > 0)
