/**
 * A PostgreSQL cluster of the test's own (the machine's PostgreSQL binaries,
 * a temporary data directory, a free port, trust auth on 127.0.0.1), so a
 * test can really stop and start the server under Herald without disturbing
 * the shared one other tests use. Run as the `postgres` user when the tests
 * run as root, since PostgreSQL refuses to run as root.
 */
import { Effect, type Scope } from "effect"
import { execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./TestServer.ts"

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string
  /** `pg_ctl stop -m fast`: open connections are terminated, as in a restart. */
  readonly stop: Effect.Effect<void, Error>
  readonly start: Effect.Effect<void, Error>
}

const binDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const version = readdirSync(root).sort().at(-1)
  return version === undefined ? undefined : join(root, version, "bin")
}

export const privatePostgres: Effect.Effect<PrivatePostgres, Error, Scope.Scope> = Effect.gen(function*() {
  const bin = binDir()
  if (bin === undefined) return yield* Effect.fail(new Error("no PostgreSQL binaries under /usr/lib/postgresql"))
  const port = yield* freePort
  const dir = mkdtempSync(join(tmpdir(), "herald-pg-"))
  const data = join(dir, "data")
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
    chownSync(dir, uid, gid)
  }
  const run = (command: string, args: ReadonlyArray<string>) =>
    Effect.try({
      try: () => {
        const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, command), ...args]] : [join(bin, command), [...args]]
        execFileSync(file, argv, { stdio: "pipe", timeout: 60_000 })
      },
      catch: (cause) => new Error(`${command} failed: ${cause instanceof Error ? cause.message : String(cause)}`)
    })
  yield* run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
  const start = run("pg_ctl", [
    "-D", data, "-w", "-l", join(dir, "log"), "start",
    "-o", `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`
  ])
  const stop = run("pg_ctl", ["-D", data, "-w", "-m", "fast", "stop"])
  yield* Effect.acquireRelease(start, () =>
    stop.pipe(Effect.ignore, Effect.andThen(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))))
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, start }
})
