/**
 * A fresh PostgreSQL database per test file on the machine's server
 * (`HERALD_TEST_PG`, default `postgres://postgres@127.0.0.1:5432`), dropped
 * when the scope closes.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { randomBytes } from "node:crypto"

export const serverUrl = process.env["HERALD_TEST_PG"] ?? "postgres://postgres@127.0.0.1:5432"

const admin = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  effect.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(`${serverUrl}/postgres`) })))

/** Creates a database and yields its URL; drops it (and its connections) on scope close. */
export const testDatabase = Effect.acquireRelease(
  Effect.gen(function*() {
    const name = `herald_t_${randomBytes(6).toString("hex")}`
    yield* admin(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE DATABASE ${name}`)))
    return { name, url: `${serverUrl}/${name}` }
  }),
  ({ name }) =>
    admin(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))).pipe(
      Effect.orDie
    )
).pipe(Effect.orDie)

/** Runs a query on the given database (for assertions on what is stored). */
export const query = <A extends object>(url: string, text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(text, params)).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(url) })),
    Effect.orDie
  )
