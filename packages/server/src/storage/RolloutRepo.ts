/**
 * The rollout flag row and its audit trail. `change` applies one action in a
 * transaction that locks the row, appends the change with the state before
 * and after, and notifies every node (`pg_notify`) on commit.
 */
import {
  type Actor,
  RealtimeFlag,
  RolloutChange,
  RolloutState,
  StorageUnavailable,
  type UserId
} from "@herald/domain"
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { bucketSql } from "../rollout/Bucket.ts"

/** The PostgreSQL channel a committed change is announced on; the payload is the new version. */
export const RolloutChannel = "herald_rollout"

export type RolloutCommand =
  | { readonly action: "set"; readonly percentage: number }
  | { readonly action: "kill" | "resume" }
  | { readonly action: "allow" | "unallow" | "deny" | "undeny"; readonly userId: UserId }

const apply = (state: RolloutState, command: RolloutCommand) => {
  const without = (list: ReadonlyArray<UserId>, userId: UserId) => list.filter((id) => id !== userId)
  const withUser = (list: ReadonlyArray<UserId>, userId: UserId) => [...without(list, userId), userId]
  switch (command.action) {
    case "set":
      return { ...state, percentage: command.percentage }
    case "kill":
      return { ...state, killed: true }
    case "resume":
      return { ...state, killed: false }
    // Allowing takes a user off the deny list and the other way round: a user is on one list at most.
    case "allow":
      return { ...state, allow: withUser(state.allow, command.userId), deny: without(state.deny, command.userId) }
    case "unallow":
      return { ...state, allow: without(state.allow, command.userId) }
    case "deny":
      return { ...state, deny: withUser(state.deny, command.userId), allow: without(state.allow, command.userId) }
    case "undeny":
      return { ...state, deny: without(state.deny, command.userId) }
  }
}

const StateJson = Schema.fromJsonString(RolloutState)

export class RolloutRepo extends Context.Service<RolloutRepo, {
  load: Effect.Effect<RolloutState, StorageUnavailable>
  change(
    command: RolloutCommand,
    actor: typeof Actor.Type,
    reason: string | undefined
  ): Effect.Effect<RolloutState, StorageUnavailable>
  history(limit: number): Effect.Effect<ReadonlyArray<RolloutChange>, StorageUnavailable>
  /** Users Herald knows of, and how many of them `state` lets in. */
  countUsers(state: RolloutState): Effect.Effect<{ readonly known: number; readonly enabled: number }, StorageUnavailable>
}>()("@herald/server/storage/RolloutRepo") {
  static readonly layer = Layer.effect(RolloutRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeState = Schema.decodeUnknownEffect(RolloutState)
    const encodeState = Schema.encodeEffect(StateJson)
    const decodeChanges = Schema.decodeUnknownEffect(Schema.Array(RolloutChange))

    const stateColumns = sql`
      flag, percentage, killed, allow, deny, version::int AS version,
      to_json(updated_at)#>>'{}' AS "updatedAt", updated_by AS "updatedBy"`

    const read = (locked: boolean) =>
      sql`SELECT ${stateColumns} FROM rollout_flags WHERE flag = ${RealtimeFlag} ${locked ? sql`FOR UPDATE` : sql``}`.pipe(
        Effect.flatMap((rows) => decodeState(rows[0]))
      )

    const change = Effect.fn("RolloutRepo.change")(function*(
      command: RolloutCommand,
      actor: string,
      reason: string | undefined
    ) {
      return yield* sql.withTransaction(Effect.gen(function*() {
        const before = yield* read(true)
        const next = apply(before, command)
        const [row] = yield* sql`
          UPDATE rollout_flags SET percentage = ${next.percentage}, killed = ${next.killed},
            allow = ${next.allow}, deny = ${next.deny}, version = version + 1,
            updated_at = now(), updated_by = ${actor}
          WHERE flag = ${RealtimeFlag}
          RETURNING ${stateColumns}`
        const after = yield* decodeState(row)
        yield* sql`
          INSERT INTO rollout_changes (flag, actor, action, user_id, reason, from_state, to_state)
          VALUES (${RealtimeFlag}, ${actor}, ${command.action}, ${"userId" in command ? command.userId : null},
            ${reason ?? null}, ${yield* encodeState(before)}::jsonb, ${yield* encodeState(after)}::jsonb)`
        yield* sql`SELECT pg_notify(${RolloutChannel}, ${String(after.version)})`
        return after
      })).pipe(Effect.mapError(unavailable))
    })

    const history = Effect.fn("RolloutRepo.history")(function*(limit: number) {
      const rows = yield* sql`
        SELECT id::int AS id, to_json(at)#>>'{}' AS at, actor, action, user_id AS "userId", reason,
          from_state AS "from", to_state AS "to"
        FROM rollout_changes WHERE flag = ${RealtimeFlag} ORDER BY id DESC LIMIT ${limit}`.pipe(Effect.mapError(unavailable))
      return yield* decodeChanges(rows).pipe(Effect.mapError(unavailable))
    })

    const countUsers = Effect.fn("RolloutRepo.countUsers")(function*(state: RolloutState) {
      const threshold = Math.round(state.percentage * 100)
      const [row] = yield* sql<{ readonly known: number; readonly enabled: number }>`
        SELECT count(*)::int AS known,
          count(*) FILTER (WHERE NOT ${state.killed} AND NOT (user_id = ANY(${state.deny}))
            AND (user_id = ANY(${state.allow}) OR ${sql.literal(bucketSql("user_id"))} < ${threshold}))::int AS enabled
        FROM herald_users`.pipe(Effect.mapError(unavailable))
      return { known: row?.known ?? 0, enabled: row?.enabled ?? 0 }
    })

    return RolloutRepo.of({ load: read(false).pipe(Effect.mapError(unavailable)), change, history, countUsers })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `stored rollout state did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })

