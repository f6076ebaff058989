/**
 * Typed PostgreSQL array parameters, for statements that take a whole batch
 * as one array per column (`unnest`) rather than a row of placeholders per
 * item: their text is the same for every batch size, so the driver prepares
 * one statement for all of them, and neither it nor PostgreSQL handles a
 * text that grows with the batch. The element type is named, so a column
 * whose values are all null (a batch without links) still binds.
 */
import { PgTypes } from "@effect/sql-pg"
import { Effect } from "effect"
import { SqlError, UnknownError } from "effect/sql/SqlError"

export type ArrayElement = "text" | "uuid" | "int4" | "float8" | "bool" | "timestamptz"

const oids: Record<ArrayElement, number> = {
  text: PgTypes.OID.text,
  uuid: PgTypes.OID.uuid,
  int4: PgTypes.OID.int4,
  float8: PgTypes.OID.float8,
  bool: PgTypes.OID.bool,
  timestamptz: PgTypes.OID.timestamptz
}

/** One array parameter; fails only if the driver knew no array type for a built-in element type. */
const arrayParameter = (
  element: ArrayElement,
  values: ReadonlyArray<unknown>
): Effect.Effect<PgTypes.Parameter, SqlError> =>
  Effect.fromResult(PgTypes.array(values, oids[element])).pipe(
    Effect.mapError((cause) => new SqlError({ reason: new UnknownError({ cause, operation: `bind a ${element}[] parameter` }) }))
  )

/** How to read one array column off each item: its element type and the item's value. */
export type Columns<T> = ReadonlyArray<readonly [ArrayElement, (item: T) => unknown]>

/** One array parameter per column, each holding that column's value of every item, in order. */
export const arrayColumns = <T>(items: ReadonlyArray<T>, columns: Columns<T>): Effect.Effect<Array<PgTypes.Parameter>, SqlError> =>
  Effect.forEach(columns, ([element, read]) => arrayParameter(element, items.map(read)))
