/**
 * Starts a real Herald server in-process on a free port against a given
 * database, with fixed keys, and stops it when the scope closes.
 */
import { DigestScheduler, HeraldConfig, HttpServer, ServerLayer } from "@herald/server"
import { defaultGuardSettings, defaultLimitSettings, defaultWebDir, type GuardSettings, type LimitSettings } from "@herald/server/config/HeraldConfig"
import { Context, Duration, Effect, Layer, Option, Redacted, References } from "effect"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const apiKey = "test-app-key"
export const adminKey = "test-admin-key"
export const tokenSecret = "test-token-secret-0123456789abcdef"

export interface RunningServer {
  readonly url: string
  readonly wsUrl: string
  readonly port: number
  /** The server's digest scheduler, for tests that drive digests at chosen instants. */
  readonly digests: DigestScheduler["Service"]
}

export interface TestServerOptions {
  readonly databaseUrl: string
  /** Redis for the fan-out; in-process when unset. */
  readonly redisUrl?: string
  /** `HERALD_API_KEY` / `HERALD_ADMIN_KEY` as a list (rotation, `sha256:` entries); the fixed keys when unset. */
  readonly apiKey?: string
  readonly adminKey?: string
  readonly heartbeat?: Duration.Input
  readonly authTimeout?: Duration.Input
  readonly port?: number
  readonly maxAttempts?: number
  readonly retryBase?: Duration.Input
  readonly deliveryPoll?: Duration.Input
  readonly deliveryLease?: Duration.Input
  readonly publishTimeout?: Duration.Input
  /** Edge limits over the defaults (docs/security.md). */
  readonly limits?: Partial<LimitSettings>
  /** `HERALD_ALLOWED_ORIGINS`; any origin when unset. */
  readonly allowedOrigins?: ReadonlyArray<string>
  /** The rollout guard's settings, over the defaults (window 5 minutes, 100 samples, 1 %, 2 s). */
  readonly guard?: Partial<GuardSettings>
  /** `HERALD_FLAG_PROVIDER`: a module whose default export is an OpenFeature provider. */
  readonly flagProvider?: string
  /** `HERALD_DEV_LOGIN`: `POST /dev/login` hands out client tokens; off by default, as with `DATABASE_URL`. */
  readonly devLogin?: boolean
  /** `HERALD_WEB_DIR`: the built web UI; by default this checkout's `packages/web/dist`. */
  readonly webDir?: string
  /** The out-of-app channels; by default as the environment configures them (off in tests). */
  readonly channels?: Parameters<typeof ServerLayer>[1]
  /** Tracer and metric export; by default from the `OTEL_*` variables (none in tests: tracing off). */
  readonly telemetry?: Parameters<typeof ServerLayer>[2]
}

/** The server's configuration; with `redisUrl` set it is a cluster node on a free runner port. */
export const testConfig = (options: TestServerOptions) =>
  Layer.unwrap(Effect.map(freePort, (clusterPort) => configWith(options, clusterPort)))

const configWith = (options: TestServerOptions, clusterPort: number) =>
  HeraldConfig.layerWith({
    port: options.port ?? 0,
    host: "127.0.0.1",
    dataDir: mkdtempSync(join(tmpdir(), "herald-data-")),
    databaseUrl: Option.some(Redacted.make(options.databaseUrl)),
    redisUrl: options.redisUrl === undefined ? Option.none() : Option.some(Redacted.make(options.redisUrl)),
    apiKey: Option.some(Redacted.make(options.apiKey ?? apiKey)),
    adminKey: Option.some(Redacted.make(options.adminKey ?? adminKey)),
    tokenSecret: Option.some(Redacted.make(tokenSecret)),
    heartbeat: Duration.fromInputUnsafe(options.heartbeat ?? "15 seconds"),
    authTimeout: Duration.fromInputUnsafe(options.authTimeout ?? "10 seconds"),
    maxAttempts: options.maxAttempts ?? 8,
    retryBase: Duration.fromInputUnsafe(options.retryBase ?? "2 seconds"),
    retryMax: Duration.minutes(10),
    deliveryPoll: Duration.fromInputUnsafe(options.deliveryPoll ?? "1 second"),
    deliveryLease: Duration.fromInputUnsafe(options.deliveryLease ?? "2 minutes"),
    publicUrl: "http://herald.test",
    publishTimeout: Duration.fromInputUnsafe(options.publishTimeout ?? "5 seconds"),
    flagProvider: Option.fromUndefinedOr(options.flagProvider),
    devLogin: options.devLogin ?? false,
    webDir: options.webDir ?? defaultWebDir,
    guard: { ...defaultGuardSettings, ...options.guard },
    limits: { ...defaultLimitSettings, ...options.limits },
    allowedOrigins: options.allowedOrigins ?? [],
    trustProxy: false,
    cluster: { host: "127.0.0.1", port: clusterPort, failover: Duration.seconds(5) }
  })

/** A server that runs until the enclosing scope closes. */
export const testServer = (options: TestServerOptions) =>
  Effect.gen(function*() {
    // Tests read frames, not logs: only warnings and errors of the server are shown.
    const context = yield* Layer.build(ServerLayer(testConfig(options), options.channels, options.telemetry)).pipe(
      Effect.provideService(References.MinimumLogLevel, "Warn")
    )
    const http = Context.get(context, HttpServer)
    return {
      url: http.url,
      wsUrl: `ws://127.0.0.1:${http.port}/ws`,
      port: http.port,
      digests: Context.get(context, DigestScheduler)
    } satisfies RunningServer
  }).pipe(Effect.orDie)

/** A port that was free a moment ago, for servers that must come back on the same address. */
export const freePort = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = address !== null && typeof address === "object" ? address.port : 0
      server.close(() => resolve(port))
    })
  })
)
