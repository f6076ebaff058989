/**
 * Herald as users run it: `node packages/server/src/bin.ts` in its own
 * process, for tests that must stop it with a real signal (Ctrl-C, kill -9).
 */
import { Effect, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { resolve } from "node:path"

export const repoRoot = resolve(import.meta.dirname, "..", "..")

export interface ServerProcess {
  readonly child: ChildProcess
  /** Everything it printed so far. */
  readonly output: () => string
}

/** Starts the server with `env` on top of this process's environment and waits for its ready line. */
export const spawnServer = (env: Readonly<Record<string, string>>): Effect.Effect<ServerProcess, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<ServerProcess, Error>((resume) => {
      const child = spawn(process.execPath, ["packages/server/src/bin.ts"], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      const started = { child, output: () => output }
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes("Herald ready")) resume(Effect.succeed(started))
      }
      child.stdout?.on("data", onData)
      child.stderr?.on("data", onData)
      child.on("exit", (code) => resume(Effect.fail(new Error(`server exited with ${code} before ready:\n${output}`))))
    }),
    (server) => Effect.asVoid(stopServer(server, "SIGKILL"))
  )

/** Sends `signal` (Ctrl-C is SIGINT) and waits for the exit; resolves to the exit code (null when killed). */
export const stopServer = (server: ServerProcess, signal: NodeJS.Signals = "SIGINT") =>
  Effect.callback<number | null>((resume) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resume(Effect.succeed(server.child.exitCode))
    server.child.once("exit", (code) => resume(Effect.succeed(code)))
    server.child.kill(signal)
  })
