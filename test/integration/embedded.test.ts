/**
 * The embedded default as a user starts it: `node packages/server/src/bin.ts`
 * with no DATABASE_URL and no keys, from an empty data directory. It must
 * initialise its own PostgreSQL, generate and print keys, serve, shut down
 * cleanly on Ctrl-C (sockets closed with 1001, PostgreSQL stopped), and come
 * back with the same keys and inbox.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { openRaw } from "../support/RawSocket.ts"
import { spawnServer, stopServer } from "../support/ServerProcess.ts"
import { freePort } from "../support/TestServer.ts"

const start = (dataDir: string, port: number) =>
  spawnServer({ HERALD_DATA_DIR: dataDir, HERALD_PORT: String(port), DATABASE_URL: "", HERALD_API_KEY: "" })

const postgresRunningIn = (dataDir: string) => {
  try {
    return execFileSync("pgrep", ["-f", "--", `postgres -D ${join(dataDir, "pg")}`]).toString().trim() !== ""
  } catch {
    return false
  }
}

/** Herald's connections to its embedded PostgreSQL, asked over the Unix socket in its data folder. */
const heraldConnections = (dataDir: string) => {
  const pgDir = join(dataDir, "pg")
  const socket = readdirSync(pgDir, { withFileTypes: true }).find((entry) => entry.isSocket())
  assert.isDefined(socket, "PostgreSQL listens on a Unix socket in its data folder")
  const [total = "", overSocket = ""] = execFileSync("psql", [
    "-h", pgDir, "-p", socket.name.slice(".s.PGSQL.".length), "-U", "postgres", "-d", "postgres", "-At", "-c",
    // A Unix socket's client_port is -1.
    "SELECT count(*), count(*) FILTER (WHERE client_port = -1) FROM pg_stat_activity WHERE application_name = 'herald'"
  ], { env: { ...process.env, PGPASSWORD: readFileSync(join(dataDir, "pg-password"), "utf8").trim() } }).toString().trim().split("|")
  return { total: Number(total), overSocket: Number(overSocket) }
}

const clientFor = (url: string, apiKey: string) =>
  Layer.build(HeraldClient.layer({ url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))

it.live("the embedded default starts from scratch, serves, shuts down cleanly and restarts with its data", () =>
  Effect.gen(function*() {
    const dataDir = mkdtempSync(join(tmpdir(), "herald-embedded-"))
    const port = yield* freePort
    const url = `http://127.0.0.1:${port}`

    const first = yield* start(dataDir, port)
    assert.include(first.output(), "generated secrets")
    const secretsFile = join(dataDir, "secrets.json")
    assert.strictEqual(statSync(secretsFile).mode & 0o777, 0o600, "secrets are readable by their owner only")
    const secrets: { apiKey: string } = JSON.parse(readFileSync(secretsFile, "utf8"))
    assert.include(first.output(), secrets.apiKey, "the API key is printed on first start")
    assert.isTrue(postgresRunningIn(dataDir))
    const connections = heraldConnections(dataDir)
    assert.isAbove(connections.total, 0)
    assert.strictEqual(connections.overSocket, connections.total, "Herald's whole pool goes over the Unix socket")

    const ready = yield* Effect.promise(() => fetch(`${url}/readyz`).then((r) => r.status))
    assert.strictEqual(ready, 200)
    const client = yield* clientFor(url, secrets.apiKey)
    const socket = yield* openRaw(`ws://127.0.0.1:${port}/ws`)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("e-alice")).token })
    yield* socket.until("synced")
    const published = yield* client.notify({ userId: "e-alice", kind: "mention", title: "embedded" })
    const frame = yield* socket.next()
    assert.strictEqual(frame.type, "notification")

    const exitCode = yield* stopServer(first)
    assert.strictEqual(yield* socket.closed(), 1001, "sockets are told the server is going away")
    assert.notStrictEqual(exitCode, null, "the server exits by itself after Ctrl-C")
    assert.isFalse(postgresRunningIn(dataDir), "the embedded PostgreSQL is stopped")
    assert.isFalse(existsSync(join(dataDir, "pg", "postmaster.pid")))

    const second = yield* start(dataDir, port)
    assert.notInclude(second.output(), "generated secrets", "the keys are kept")
    const inbox = yield* client.listInbox({ userId: "e-alice" })
    assert.deepStrictEqual(inbox.items.map((n) => n.id), [published.id])
    yield* stopServer(second)
    assert.isFalse(postgresRunningIn(dataDir))
  }).pipe(Effect.scoped), { timeout: 120_000 })
