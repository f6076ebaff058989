/**
 * Delivery rows: claimed with a lease before a send, marked after it.
 *
 * A row is sent by whoever holds its claim; the lease outlives any send (sends
 * time out well before it), so two workers never send one row at once. A row
 * whose lease expired (its worker died) is claimed again: the only window for
 * a second send is a crash after the provider accepted and before the row was
 * marked, a few milliseconds.
 */
import { AdminRpcs, Notification, StorageUnavailable } from "@herald/domain"
import { Context, Duration, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { type DeliveryFilter, deliveryConditions } from "./DeliveryFilters.ts"
import * as SendState from "./SendState.ts"

export const DeliveryChannel = AdminRpcs.DeliveryChannel
export type DeliveryChannel = typeof DeliveryChannel.Type

export const DeliveryState = Schema.Literals(["pending", "sending", "sent", "failed", "dead", "discarded"])
export type DeliveryState = typeof DeliveryState.Type

export interface DeadLetterSelection extends DeadLetterQuery {
  readonly dryRun: boolean
}

export interface DeadLetterQuery extends DeliveryFilter {
  readonly limit: number
}

/** A claimed delivery with what its send needs. */
export interface ClaimedDelivery {
  readonly id: number
  readonly channel: DeliveryChannel
  /** The device token (push) or the address (email). */
  readonly target: string
  /** Attempts including this one. */
  readonly attempts: number
  readonly notification: Notification
  /** The publish's `traceparent`: the send continues the notification's trace. */
  readonly traceParent: string | null
}

// A claimed row is the delivery's own columns beside its notification's.
const ClaimedRow = Schema.Struct({
  deliveryId: Schema.Number,
  channel: DeliveryChannel,
  target: Schema.String,
  attempts: Schema.Number,
  traceParent: Schema.NullOr(Schema.String),
  ...Notification.fields
})

export class DeliveryRepo extends Context.Service<DeliveryRepo, {
  /** Claims up to `limit` due rows of `channel` (pending, failed and due, or sending with an expired lease). */
  claim(channel: DeliveryChannel, limit: number, lease: Duration.Duration): Effect.Effect<ReadonlyArray<ClaimedDelivery>, StorageUnavailable>
  /**
   * Marks a send done; answers how many times the row has now been sent beyond
   * the forced replays an operator asked for, so a number above 1 is a
   * duplicate send (what the rollout guard watches for).
   */
  markSent(id: number, providerId: string): Effect.Effect<number, StorageUnavailable>
  /** A failed attempt: retried after `retryIn`, or dead once `maxAttempts` is reached. */
  markFailed(id: number, error: string, retryIn: Duration.Duration, maxAttempts: number): Effect.Effect<void, StorageUnavailable>
  /** Not sent and never will be (the target is gone). */
  markDiscarded(id: number, reason: string): Effect.Effect<void, StorageUnavailable>
  /** Not attempted (the provider's circuit is open): back to the queue without using an attempt. */
  release(id: number, retryIn: Duration.Duration, reason: string): Effect.Effect<void, StorageUnavailable>
  /** Retries (back to pending, fresh attempts) or drops (discarded) the dead letters selected. */
  settleDeadLetters(
    query: DeadLetterSelection,
    action: { readonly _tag: "retry" } | { readonly _tag: "drop"; readonly reason: string }
  ): Effect.Effect<{ readonly selected: number; readonly changed: number }, StorageUnavailable>
  /** Dead letters, newest first. */
  deadLetters(query: DeadLetterQuery): Effect.Effect<ReadonlyArray<AdminRpcs.DeadLetter>, StorageUnavailable>
}>()("@herald/server/storage/DeliveryRepo") {
  static readonly layer = Layer.effect(DeliveryRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeClaimed = Schema.decodeUnknownEffect(Schema.Array(ClaimedRow))

    const claim = Effect.fn("DeliveryRepo.claim")(function*(channel: DeliveryChannel, limit: number, lease: Duration.Duration) {
      const rows = yield* sql`
        UPDATE deliveries d SET
          state = 'sending', attempts = d.attempts + 1, updated_at = now(),
          claimed_until = now() + make_interval(secs => ${SendState.seconds(lease)})
        FROM (
          SELECT id FROM deliveries
          WHERE channel = ${channel}
            AND ((state IN ('pending', 'failed') AND next_attempt_at <= now())
              OR (state = 'sending' AND claimed_until < now()))
          ORDER BY next_attempt_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ) due, notifications n
        WHERE d.id = due.id AND n.id = d.notification_id
        RETURNING d.id::float8 AS "deliveryId", d.channel, d.target, d.attempts, n.id::text AS id,
          n.user_id AS "userId", n.cursor::float8 AS cursor, n.kind, n.title, n.body, n.link, n.actor,
          n.idempotency_key AS "idempotencyKey", to_json(n.created_at)#>>'{}' AS "createdAt",
          to_json(n.read_at)#>>'{}' AS "readAt", n.trace_parent AS "traceParent"`.pipe(
          Effect.flatMap(decodeClaimed),
          Effect.mapError(unavailable)
        )
      return rows.map(({ attempts, channel, deliveryId, target, traceParent, ...notification }): ClaimedDelivery => ({
        id: deliveryId,
        channel,
        target,
        attempts,
        notification: new Notification(notification),
        traceParent
      }))
    })

    const run = (statement: Effect.Effect<unknown, SqlError.SqlError>) =>
      statement.pipe(Effect.asVoid, Effect.mapError(unavailable))

    const decodeDead = Schema.decodeUnknownEffect(Schema.Array(AdminRpcs.DeadLetter))
    const deadLetters = Effect.fn("DeliveryRepo.deadLetters")(function*(query: DeadLetterQuery) {
      return yield* sql`
        SELECT d.id::float8 AS "deliveryId", d.notification_id::text AS "notificationId", d.user_id AS "userId",
          n.kind, n.title, d.channel, d.target, d.attempts, d.last_error AS "lastError",
          to_json(d.created_at)#>>'{}' AS "createdAt", to_json(d.updated_at)#>>'{}' AS "deadAt"
        FROM deliveries d JOIN notifications n ON n.id = d.notification_id
        WHERE d.state = 'dead' ${deliveryConditions(sql, query)}
        ORDER BY d.updated_at DESC, d.id DESC
        LIMIT ${query.limit}`.pipe(Effect.flatMap(decodeDead), Effect.mapError(unavailable))
    })

    // The newest dead rows matching the selection, locked so two operators cannot act on one row.
    const settleDeadLetters = Effect.fn("DeliveryRepo.settleDeadLetters")(function*(
      query: DeadLetterSelection,
      action: { readonly _tag: "retry" } | { readonly _tag: "drop"; readonly reason: string }
    ) {
      const picked = sql`
        SELECT d.id FROM deliveries d JOIN notifications n ON n.id = d.notification_id
        WHERE d.state = 'dead' ${deliveryConditions(sql, query)}
        ORDER BY d.updated_at DESC, d.id DESC
        LIMIT ${query.limit}`
      if (query.dryRun) {
        const [row] = yield* sql<{ readonly n: number }>`SELECT count(*)::float8 AS n FROM (${picked}) p`.pipe(
          Effect.mapError(unavailable)
        )
        return { selected: row?.n ?? 0, changed: 0 }
      }
      const change = action._tag === "retry"
        ? sql`state = 'pending', attempts = 0, next_attempt_at = now(), claimed_until = NULL`
        : sql`state = 'discarded', last_error = ${`dropped: ${action.reason}`}`
      const [row] = yield* sql<{ readonly n: number }>`
        WITH picked AS (${picked} FOR UPDATE OF d SKIP LOCKED),
        changed AS (
          UPDATE deliveries d SET ${change}, updated_at = now()
          FROM picked WHERE d.id = picked.id AND d.state = 'dead'
          RETURNING 1
        )
        SELECT count(*)::float8 AS n FROM changed`.pipe(Effect.mapError(unavailable))
      const changed = row?.n ?? 0
      return { selected: changed, changed }
    })

    return DeliveryRepo.of({
      claim,
      deadLetters,
      settleDeadLetters,
      markSent: Effect.fn("DeliveryRepo.markSent")((id: number, providerId: string) =>
        sql<{ readonly sends: number }>`
          UPDATE deliveries SET ${SendState.sentColumns(sql, providerId)}, sends = sends + 1
          WHERE id = ${id} AND state = 'sending'
          RETURNING sends - resends_allowed AS sends`.pipe(
          Effect.map((rows) => rows[0]?.sends ?? 0),
          Effect.mapError(unavailable)
        )
      ),
      markFailed: Effect.fn("DeliveryRepo.markFailed")(
        (id: number, error: string, retryIn: Duration.Duration, maxAttempts: number) =>
          run(SendState.markFailed(sql, "deliveries", id, error, retryIn, maxAttempts))
      ),
      markDiscarded: Effect.fn("DeliveryRepo.markDiscarded")((id: number, reason: string) =>
        run(sql`
          UPDATE deliveries SET state = 'discarded', last_error = ${reason}, updated_at = now(), claimed_until = NULL
          WHERE id = ${id} AND state = 'sending'`)
      ),
      release: Effect.fn("DeliveryRepo.release")((id: number, retryIn: Duration.Duration, reason: string) =>
        run(sql`
          UPDATE deliveries SET state = 'failed', attempts = attempts - 1, last_error = ${reason}, updated_at = now(),
            claimed_until = NULL, next_attempt_at = now() + make_interval(secs => ${SendState.seconds(retryIn)})
          WHERE id = ${id} AND state = 'sending'`)
      )
    })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `a delivery row did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })

