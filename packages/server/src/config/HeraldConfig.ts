/**
 * Every setting Herald reads from its environment, decoded once at start.
 * The table in the README lists them; a bad value stops the start with a
 * message naming the variable.
 */
import { Config, Context, Duration, Layer, Option, type Redacted, Schema, SchemaGetter } from "effect"
import { join, resolve } from "node:path"

export interface HeraldConfigShape {
  readonly port: number
  readonly host: string
  readonly dataDir: string
  /** External PostgreSQL; `None` means the embedded one under `dataDir`. */
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  /** Redis for the fan-out between nodes; `None` means in-process (one node). */
  readonly redisUrl: Option.Option<Redacted.Redacted<string>>
  readonly apiKey: Option.Option<Redacted.Redacted<string>>
  readonly adminKey: Option.Option<Redacted.Redacted<string>>
  readonly tokenSecret: Option.Option<Redacted.Redacted<string>>
  readonly heartbeat: Duration.Duration
  readonly authTimeout: Duration.Duration
  /** Attempts per push or email delivery before it is a dead letter. */
  readonly maxAttempts: number
  /** First retry delay; doubles per attempt up to `retryMax` (a provider's Retry-After wins). */
  readonly retryBase: Duration.Duration
  readonly retryMax: Duration.Duration
  /** How often the delivery worker looks for due rows when nothing woke it. */
  readonly deliveryPoll: Duration.Duration
  /** How long a claimed delivery is reserved for its worker; a claim older than this is taken over (its worker died). */
  readonly deliveryLease: Duration.Duration
  /** The server's address as users reach it, for links in emails; default `http://HOST:PORT`. */
  readonly publicUrl: string
  /** How long `Notify` waits for its rows to be stored before failing with a retryable error. */
  readonly publishTimeout: Duration.Duration
  /** A module whose default export is the OpenFeature provider of the rollout flag; `None`: Herald's own. */
  readonly flagProvider: Option.Option<string>
  /** `POST /dev/login` hands out a client token for any user id (for trying Herald; never in production). */
  readonly devLogin: boolean
  /** The built web UI (`index.html`, `preferences.html`, `admin.html`, `assets/`), as an absolute path. */
  readonly webDir: string
  readonly guard: GuardSettings
  /** Rate limits and size bounds at the edge (docs/security.md says what each protects). */
  readonly limits: LimitSettings
  /**
   * Origins a browser socket may come from (`Origin` header, exact match such as
   * `https://app.example.com`); empty: any. Clients that send no `Origin` (servers, mobile apps) are not browsers
   * and are let through: their token is what authenticates them.
   */
  readonly allowedOrigins: ReadonlyArray<string>
  /** Behind a reverse proxy: take the client's address from the last `X-Forwarded-For` entry. */
  readonly trustProxy: boolean
  /** How this node joins a cluster; used only with `DATABASE_URL` and `REDIS_URL` both set. */
  readonly cluster: ClusterSettings
}

/** The rollout guard's window and thresholds (the rollback triggers and exit criteria). */
export interface GuardSettings {
  readonly enabled: boolean
  readonly window: Duration.Duration
  /** Fewer samples than this in the window leave a rate or percentile undecided. */
  readonly minSamples: number
  /** Trigger: socket error rate above this fraction. */
  readonly maxSocketErrorRate: number
  /** Trigger: in-app delivery p95 above this. */
  readonly maxDeliveryP95: Duration.Duration
  /** Exit criteria. */
  readonly exitErrorRateIncrease: number
  readonly exitDeliveryP95: Duration.Duration
  readonly exitReconnectRate: number
}

/** The rollout plan's thresholds: what the guard uses unless `HERALD_GUARD_*` says otherwise. */
export const defaultGuardSettings: GuardSettings = {
  enabled: true,
  window: Duration.minutes(5),
  minSamples: 100,
  maxSocketErrorRate: 0.01,
  maxDeliveryP95: Duration.seconds(2),
  // The exit criteria of a phase.
  exitErrorRateIncrease: 0.001,
  exitDeliveryP95: Duration.millis(500),
  exitReconnectRate: 0.02
}

/** Bounds at the edge. A count of 0 turns that limit off. */
export interface LimitSettings {
  /** RPC calls per second per API key (token bucket, burst of one second's worth). */
  readonly rpcPerKey: number
  /** Socket upgrades per second per client IP. */
  readonly connectsPerIp: number
  /** Frames per second one socket may send (acks, pings) before frames are refused. */
  readonly framesPerSocket: number
  /** Open sockets per user on this node. */
  readonly socketsPerUser: number
  /** Open sockets per client IP on this node. */
  readonly socketsPerIp: number
  /** Bytes queued on a socket (unsent to a slow client) before it is closed with 4409 and left to resume. */
  readonly socketBuffer: number
  /** Largest HTTP request body, in bytes. */
  readonly requestBody: number
}

export const defaultLimitSettings: LimitSettings = {
  rpcPerKey: 1_000,
  connectsPerIp: 50,
  framesPerSocket: 50,
  socketsPerUser: 20,
  socketsPerIp: 1_000,
  socketBuffer: 1024 * 1024,
  requestBody: 1024 * 1024
}

export interface ClusterSettings {
  /** The address other nodes reach this node's runner at; default `HERALD_HOST`. */
  readonly host: string
  /** The runner's TCP port for node-to-node messages. */
  readonly port: number
  /** How long a node may be silent before its shards move to the others. */
  readonly failover: Duration.Duration
}

/**
 * Where `pnpm --filter @herald/web build` writes the web UI in this checkout: found from this
 * file, not the working directory, so the server serves it wherever it was started from.
 */
export const defaultWebDir = join(import.meta.dirname, "..", "..", "..", "web", "dist")

const Fraction = Schema.NumberFromString.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 })))

const Count = Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0)))
const Positive = Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1)))
const limit = (name: string, fallback: number, schema: typeof Count = Count) =>
  Config.schema(schema, name).pipe(Config.withDefault(fallback))

const Origin = Schema.String.pipe(Schema.check(Schema.makeFilter((origin) =>
  /^https?:\/\/[^/\s]+$/.test(origin) || `"${origin}" is not an origin such as https://app.example.com (scheme and host, no path)`
)))
const OriginList = Schema.String.pipe(
  Schema.decodeTo(Schema.Array(Origin), {
    decode: SchemaGetter.transform((list: string) => list.split(",").map((origin) => origin.trim()).filter((origin) => origin.length > 0)),
    encode: SchemaGetter.transform((origins: ReadonlyArray<string>) => origins.join(","))
  })
)

const limitsConfig = Config.all({
  rpcPerKey: limit("HERALD_RATE_LIMIT_RPC", defaultLimitSettings.rpcPerKey),
  connectsPerIp: limit("HERALD_RATE_LIMIT_CONNECT", defaultLimitSettings.connectsPerIp),
  framesPerSocket: limit("HERALD_RATE_LIMIT_FRAMES", defaultLimitSettings.framesPerSocket),
  socketsPerUser: limit("HERALD_MAX_SOCKETS_PER_USER", defaultLimitSettings.socketsPerUser),
  socketsPerIp: limit("HERALD_MAX_SOCKETS_PER_IP", defaultLimitSettings.socketsPerIp),
  socketBuffer: limit("HERALD_MAX_SOCKET_BUFFER", defaultLimitSettings.socketBuffer, Positive),
  requestBody: limit("HERALD_MAX_REQUEST_BYTES", defaultLimitSettings.requestBody, Positive)
})

const baseConfig = Config.all({
  limits: limitsConfig,
  allowedOrigins: Config.schema(OriginList, "HERALD_ALLOWED_ORIGINS").pipe(Config.withDefault([])),
  trustProxy: Config.Boolean("HERALD_TRUST_PROXY").pipe(Config.withDefault(false)),
  port: Config.Port("HERALD_PORT").pipe(Config.withDefault(8080)),
  host: Config.NonEmptyString("HERALD_HOST").pipe(Config.withDefault("127.0.0.1")),
  dataDir: Config.NonEmptyString("HERALD_DATA_DIR").pipe(Config.withDefault(".data")),
  databaseUrl: Config.option(Config.Redacted("DATABASE_URL")),
  redisUrl: Config.option(Config.Redacted("REDIS_URL")),
  apiKey: Config.option(Config.Redacted("HERALD_API_KEY")),
  adminKey: Config.option(Config.Redacted("HERALD_ADMIN_KEY")),
  tokenSecret: Config.option(Config.Redacted("HERALD_TOKEN_SECRET")),
  heartbeat: Config.Duration("HERALD_HEARTBEAT").pipe(Config.withDefault(Duration.seconds(15))),
  authTimeout: Config.Duration("HERALD_AUTH_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10))),
  maxAttempts: Config.schema(
    Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1))),
    "HERALD_MAX_ATTEMPTS"
  ).pipe(Config.withDefault(8)),
  retryBase: Config.Duration("HERALD_RETRY_BASE").pipe(Config.withDefault(Duration.seconds(2))),
  retryMax: Config.Duration("HERALD_RETRY_MAX").pipe(Config.withDefault(Duration.minutes(10))),
  deliveryPoll: Config.Duration("HERALD_DELIVERY_POLL").pipe(Config.withDefault(Duration.seconds(1))),
  deliveryLease: Config.Duration("HERALD_DELIVERY_LEASE").pipe(Config.withDefault(Duration.minutes(2))),
  publicUrl: Config.option(Config.URL("HERALD_PUBLIC_URL")),
  publishTimeout: Config.Duration("HERALD_PUBLISH_TIMEOUT").pipe(Config.withDefault(Duration.seconds(5))),
  flagProvider: Config.option(Config.NonEmptyString("HERALD_FLAG_PROVIDER")),
  devLogin: Config.option(Config.Boolean("HERALD_DEV_LOGIN")),
  webDir: Config.NonEmptyString("HERALD_WEB_DIR").pipe(Config.withDefault(defaultWebDir), Config.map((dir) => resolve(dir))),
  guardEnabled: Config.Boolean("HERALD_GUARD").pipe(Config.withDefault(defaultGuardSettings.enabled)),
  guardWindow: Config.Duration("HERALD_GUARD_WINDOW").pipe(Config.withDefault(defaultGuardSettings.window)),
  guardMinSamples: Config.schema(
    Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1))),
    "HERALD_GUARD_MIN_SAMPLES"
  ).pipe(Config.withDefault(defaultGuardSettings.minSamples)),
  guardMaxSocketErrorRate: Config.schema(Fraction, "HERALD_GUARD_MAX_SOCKET_ERROR_RATE").pipe(
    Config.withDefault(defaultGuardSettings.maxSocketErrorRate)
  ),
  guardMaxDeliveryP95: Config.Duration("HERALD_GUARD_MAX_DELIVERY_P95").pipe(
    Config.withDefault(defaultGuardSettings.maxDeliveryP95)
  ),
  clusterHost: Config.option(Config.NonEmptyString("HERALD_CLUSTER_HOST")),
  clusterPort: Config.Port("HERALD_CLUSTER_PORT").pipe(Config.withDefault(34431)),
  // Noticing a dead node takes about 3.5 s (failed pings are retried for 2.5 s, assignments
  // refresh every second), so a shorter failover could not be kept.
  clusterFailover: Config.schema(
    Schema.DurationFromString.pipe(
      Schema.check(Schema.makeFilter((duration) =>
        Duration.isGreaterThanOrEqualTo(duration, Duration.seconds(5)) || "must be at least 5 seconds"
      ))
    ),
    "HERALD_CLUSTER_FAILOVER"
  ).pipe(Config.withDefault(Duration.seconds(10)))
})

export const heraldConfig = baseConfig.pipe(
  Config.map(({
    clusterFailover,
    clusterHost,
    clusterPort,
    devLogin,
    guardEnabled,
    guardMaxDeliveryP95,
    guardMaxSocketErrorRate,
    guardMinSamples,
    guardWindow,
    publicUrl,
    ...config
  }): HeraldConfigShape => ({
    ...config,
    // On by default only on the embedded default (no DATABASE_URL), which is for trying Herald.
    devLogin: Option.getOrElse(devLogin, () => Option.isNone(config.databaseUrl)),
    guard: {
      ...defaultGuardSettings,
      enabled: guardEnabled,
      window: guardWindow,
      minSamples: guardMinSamples,
      maxSocketErrorRate: guardMaxSocketErrorRate,
      maxDeliveryP95: guardMaxDeliveryP95
    },
    cluster: {
      host: Option.getOrElse(clusterHost, () => config.host),
      port: clusterPort,
      failover: clusterFailover
    },
    publicUrl: Option.match(publicUrl, {
      onNone: () => `http://${config.host}:${config.port}`,
      onSome: (url) => url.toString().replace(/\/+$/, "")
    })
  }))
)

export class HeraldConfig extends Context.Service<HeraldConfig, HeraldConfigShape>()(
  "@herald/server/config/HeraldConfig"
) {
  static readonly layer = Layer.effect(HeraldConfig, heraldConfig)

  static readonly layerWith = (config: HeraldConfigShape) => Layer.succeed(HeraldConfig, config)
}
