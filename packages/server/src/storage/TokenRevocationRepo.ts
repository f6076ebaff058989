/**
 * Revoked client tokens, one row per user: tokens issued at or before the
 * row's time are refused. Times are the database's clock, so every node
 * reads the same instant.
 */
import { StorageUnavailable, UserId } from "@herald/domain"
import { Context, DateTime, Effect, Layer, Schema } from "effect"
import { type SqlError, SqlClient } from "effect/sql"

export interface Revocation {
  readonly userId: UserId
  /** Epoch milliseconds. */
  readonly revokedAt: number
}

// Long enough that a revocation committed late (its `now()` taken before a newer one was read)
// is still read by the next poll.
const CommitSlackSeconds = 5
// The longest client token lifetime: an older revocation can only refuse expired tokens.
const KeepDays = 31

const Row = Schema.Struct({ user_id: UserId, revoked_at: Schema.Date })
const decodeRows = Schema.decodeUnknownEffect(Schema.Array(Row))
const toRevocation = (row: typeof Row.Type): Revocation => ({ userId: row.user_id, revokedAt: row.revoked_at.getTime() })

export class TokenRevocationRepo extends Context.Service<TokenRevocationRepo, {
  revoke(userId: UserId): Effect.Effect<Revocation, StorageUnavailable>
  /** Every revocation still relevant (newer than the longest token lifetime). */
  readonly all: Effect.Effect<ReadonlyArray<Revocation>, StorageUnavailable>
  /** Revocations at or after `sinceMs`, less a few seconds for late commits. */
  since(sinceMs: number): Effect.Effect<ReadonlyArray<Revocation>, StorageUnavailable>
}>()("@herald/server/storage/TokenRevocationRepo") {
  static readonly layer = Layer.effect(TokenRevocationRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const read = (rows: Effect.Effect<ReadonlyArray<unknown>, SqlError.SqlError>) =>
      rows.pipe(Effect.flatMap(decodeRows), Effect.map((decoded) => decoded.map(toRevocation)), Effect.mapError(unavailable))

    const revoke = Effect.fn("TokenRevocationRepo.revoke")(function*(userId: UserId) {
      const rows = yield* read(sql`
        INSERT INTO herald_token_revocations (user_id, revoked_at) VALUES (${userId}, now())
        ON CONFLICT (user_id) DO UPDATE SET revoked_at = EXCLUDED.revoked_at
        RETURNING user_id, revoked_at`)
      const row = rows[0]
      return row ?? (yield* new StorageUnavailable({ message: "the revocation was not stored", retryable: true }))
    })

    const all = Effect.gen(function*() {
      yield* sql`DELETE FROM herald_token_revocations WHERE revoked_at < now() - make_interval(days => ${KeepDays})`.pipe(
        Effect.mapError(unavailable)
      )
      return yield* read(sql`SELECT user_id, revoked_at FROM herald_token_revocations`)
    }).pipe(Effect.withSpan("TokenRevocationRepo.all"))

    const since = (sinceMs: number) => {
      const from = DateTime.toDate(DateTime.makeUnsafe(sinceMs - CommitSlackSeconds * 1000))
      return read(sql`SELECT user_id, revoked_at FROM herald_token_revocations WHERE revoked_at >= ${from}`)
    }

    return TokenRevocationRepo.of({ revoke, all, since })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `a stored revocation did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })
