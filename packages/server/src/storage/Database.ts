/**
 * The PostgreSQL connection pool, on `DATABASE_URL` when set and on the
 * embedded PostgreSQL otherwise, with Herald's migrations applied before
 * anything else may use it.
 */
import { PgClient } from "@effect/sql-pg"
import { ConfigurationError } from "@herald/domain"
import { Effect, Layer, Option } from "effect"
import { Migrator, type SqlClient } from "effect/sql"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { EmbeddedPostgres } from "./EmbeddedPostgres.ts"
import notifications from "./migrations/0001_notifications.ts"
import preferencesDevices from "./migrations/0002_preferences_devices.ts"
import deliveries from "./migrations/0003_deliveries.ts"
import digests from "./migrations/0004_digests.ts"
import rollout from "./migrations/0005_rollout.ts"
import nodeStats from "./migrations/0006_node_stats.ts"
import traceContext from "./migrations/0007_trace_context.ts"
import replays from "./migrations/0008_replays.ts"
import inAppCursor from "./migrations/0009_in_app_cursor.ts"
import tokenRevocations from "./migrations/0010_token_revocations.ts"
import deliveriesDueByChannel from "./migrations/0011_deliveries_due_by_channel.ts"
import preferencesVersion from "./migrations/0012_preferences_version.ts"

/** Numbered, never edited once landed; a new change is a new entry. */
export const migrations = Migrator.fromRecord({
  "0001_notifications": notifications,
  "0002_preferences_devices": preferencesDevices,
  "0003_deliveries": deliveries,
  "0004_digests": digests,
  "0005_rollout": rollout,
  "0006_node_stats": nodeStats,
  "0007_trace_context": traceContext,
  "0008_replays": replays,
  "0009_in_app_cursor": inAppCursor,
  "0010_token_revocations": tokenRevocations,
  "0011_deliveries_due_by_channel": deliveriesDueByChannel,
  "0012_preferences_version": preferencesVersion
})

const runMigrations = Migrator.make({})

/** Runs the migrations; safe to run at every start (applied ones are skipped). */
export const MigrationsLayer = Layer.effectDiscard(
  runMigrations({ loader: migrations, table: "herald_migrations" }).pipe(
    Effect.mapError((cause) => new ConfigurationError({ message: `database migration failed: ${cause.message}` })),
    Effect.withSpan("Database.migrate")
  )
)

// A database that stops answering fails new connections within seconds rather than hanging callers.
const poolOptions = { applicationName: "herald", maxConnections: 20, connectTimeout: "3 seconds" } as const

const pool = (options: PgClient.PgPoolConfig) =>
  PgClient.layerFrom(
    PgClient.make({ ...poolOptions, ...options }).pipe(
      Effect.mapError((cause) => new ConfigurationError({ message: `cannot connect to PostgreSQL: ${cause.message}` }))
    )
  )

const embeddedClient = Layer.unwrap(
  Effect.map(EmbeddedPostgres, (pg) =>
    pool({
      host: pg.host,
      port: pg.port,
      username: pg.username,
      password: pg.password,
      database: pg.database
    }))
)

/** `SqlClient` on the configured PostgreSQL, migrated. */
export const DatabaseLayer: Layer.Layer<
  SqlClient.SqlClient | PgClient.PgClient,
  ConfigurationError,
  HeraldConfig
> = Layer.unwrap(
  Effect.map(HeraldConfig, (config) =>
    Option.match(config.databaseUrl, {
      onSome: (url) => pool({ url }),
      onNone: () => embeddedClient.pipe(Layer.provide(EmbeddedPostgres.layer(config.dataDir)))
    }))
).pipe(
  (client) => Layer.provideMerge(MigrationsLayer, client)
)
