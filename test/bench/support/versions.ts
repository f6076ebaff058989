/**
 * What a comparison report names as its setting: the installed versions of
 * the libraries compared and used, redis-server's and PostgreSQL's, and
 * Herald's commit (with whether the work tree had changes).
 */
import { Effect, Schema } from "effect"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { cpus, loadavg, totalmem } from "node:os"
import { join } from "node:path"
import { query, serverUrl } from "../../support/TestDatabase.ts"
import { round } from "./stats.ts"
import { fileLimit } from "./system.ts"

const PackageJson = Schema.Struct({ version: Schema.String })
const decodePackage = Schema.decodeUnknownOption(PackageJson)

const packageVersion = (root: string, name: string): string | null => {
  try {
    const found = decodePackage(JSON.parse(readFileSync(join(root, "test", "node_modules", name, "package.json"), "utf8")))
    return found._tag === "Some" ? found.value.version : null
  } catch {
    return null
  }
}

const run = (command: string, args: ReadonlyArray<string>, cwd: string): string | null => {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" })
  return result.status === 0 ? result.stdout.trim() : null
}

export const versions = async (root: string) => {
  const rows = await Effect.runPromise(query<{ readonly version: string }>(`${serverUrl}/postgres`, "SELECT version() AS version"))
    .catch(() => [])
  const status = run("git", ["status", "--porcelain"], root)
  return {
    node: process.version,
    ws: packageVersion(root, "ws"),
    "socket.io": packageVersion(root, "socket.io"),
    "socket.io-client": packageVersion(root, "socket.io-client"),
    "@socket.io/redis-adapter": packageVersion(root, "@socket.io/redis-adapter"),
    redis: packageVersion(root, "redis"),
    effect: packageVersion(root, "effect"),
    redisServer: run("redis-server", ["--version"], root),
    postgres: rows[0]?.version ?? null,
    heraldCommit: run("git", ["rev-parse", "HEAD"], root),
    heraldWorkTreeChanged: status === null ? null : status !== ""
  }
}

export const machine = () => ({
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? null,
  memoryGb: round(totalmem() / 2 ** 30, 1),
  loadAverage: loadavg().map((n) => round(n)),
  platform: `${process.platform}-${process.arch}`,
  openFileLimit: fileLimit()
})
