/**
 * The user row: preference overrides, the email address and the
 * existing-before-rollout flag. Written only by the user's mailbox entity,
 * which caches what it read; publishes read it here, batched.
 */
import {
  applyPatch,
  defaultDigestSettings,
  DigestSettings,
  PreferenceOverrides,
  type Preferences,
  type PreferencesPatch,
  resolvePreferences,
  StorageUnavailable,
  type UserId
} from "@herald/domain"
import { Context, DateTime, Effect, Layer, Schema } from "effect"
import { batchedByUser } from "./ByUserBatch.ts"
import { SqlClient, type SqlError } from "effect/sql"
import { nextFire } from "../digest/DigestTime.ts"

const OverridesJson = Schema.fromJsonString(PreferenceOverrides)
const DigestJson = Schema.fromJsonString(DigestSettings)

export class UserRepo extends Context.Service<UserRepo, {
  preferences(userId: UserId): Effect.Effect<Preferences, StorageUnavailable>
  /** Several users' preferences in one query (replays route a page of many users' items). */
  preferencesOf(userIds: ReadonlyArray<UserId>): Effect.Effect<ReadonlyMap<UserId, Preferences>, StorageUnavailable>
  updatePreferences(userId: UserId, patch: PreferencesPatch): Effect.Effect<Preferences, StorageUnavailable>
}>()("@herald/server/storage/UserRepo") {
  static readonly layer = Layer.effect(UserRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeOverrides = Schema.decodeUnknownEffect(OverridesJson)
    const encodeOverrides = Schema.encodeEffect(OverridesJson)
    const decodeDigest = Schema.decodeUnknownEffect(DigestJson)
    const encodeDigest = Schema.encodeEffect(DigestJson)

    const digestOf = (row: StoredRow | undefined) =>
      row?.digest == null ? Effect.succeed(defaultDigestSettings) : decodeDigest(row.digest)

    const load = (userId: UserId, rows: Effect.Effect<ReadonlyArray<StoredRow>, SqlError.SqlError>) =>
      Effect.gen(function*() {
        const [row] = yield* rows
        if (row === undefined) return withoutRow(userId)
        return resolvePreferences({
          userId,
          existingBeforeRollout: row.existing,
          emailAddress: row.email,
          overrides: yield* decodeOverrides(row.overrides),
          digest: yield* digestOf(row)
        })
      })

    const preferencesOf = Effect.fn("UserRepo.preferencesOf")(function*(userIds: ReadonlyArray<UserId>) {
      const unique = [...new Set(userIds)]
      if (unique.length === 0) return new Map<UserId, Preferences>()
      const rows = yield* sql<StoredRow & { readonly userId: string }>`
        SELECT user_id AS "userId", existing_before_rollout AS existing, email_address AS email,
          preference_overrides::text AS overrides, digest_settings::text AS digest
        FROM herald_users WHERE user_id IN ${sql.in(unique)}`.pipe(Effect.mapError(unavailable))
      const byId = new Map(rows.map((row) => [row.userId, row]))
      const found = yield* Effect.forEach(unique, (userId) => {
        const row = byId.get(userId)
        return load(userId, Effect.succeed(row === undefined ? [] : [row])).pipe(
          Effect.map((prefs) => [userId, prefs] as const),
          Effect.mapError(unavailable)
        )
      })
      return new Map(found)
    })

    const updatePreferences = Effect.fn("UserRepo.updatePreferences")(function*(userId: UserId, patch: PreferencesPatch) {
      return yield* sql.withTransaction(Effect.gen(function*() {
        // The row lock orders concurrent changes of the same user.
        const [row] = yield* sql<StoredRow>`
          INSERT INTO herald_users (user_id) VALUES (${userId})
          ON CONFLICT (user_id) DO UPDATE SET user_id = excluded.user_id
          RETURNING existing_before_rollout AS existing, email_address AS email, preference_overrides::text AS overrides,
            digest_settings::text AS digest`
        const overrides = applyPatch(row === undefined ? {} : yield* decodeOverrides(row.overrides), patch)
        const existing = patch.existingBeforeRollout ?? row?.existing ?? false
        const email = patch.emailAddress === undefined ? row?.email ?? null : patch.emailAddress
        const digest = patch.digest === undefined
          ? yield* digestOf(row)
          : new DigestSettings({ ...(yield* digestOf(row)), ...patch.digest })
        // A digest already due keeps its items but moves to the new schedule's next instant.
        const rescheduled = patch.digest === undefined
          ? sql``
          : sql`, next_digest_at = CASE WHEN next_digest_at IS NULL THEN NULL ELSE ${
            new Date(nextFire(digest.schedule, digest.timeZone, DateTime.toEpochMillis(yield* DateTime.now)))
          } END`
        yield* sql`
          UPDATE herald_users SET
            existing_before_rollout = ${existing},
            email_address = ${email},
            preference_overrides = ${yield* encodeOverrides(overrides)}::jsonb,
            digest_settings = ${yield* encodeDigest(digest)}::jsonb,
            preferences_updated_at = now()
            ${rescheduled}
          WHERE user_id = ${userId}`
        return resolvePreferences({ userId, existingBeforeRollout: existing, emailAddress: email, overrides, digest })
      })).pipe(Effect.mapError(unavailable))
    })

    // Mailboxes waking in the same tick share one read (publishes use preferencesOf, once per
    // writer batch); a user with no row gets the defaults.
    const preferences = batchedByUser((userIds) => preferencesOf(userIds), withoutRow)

    return UserRepo.of({ preferences, preferencesOf, updatePreferences })
  }))
}

interface StoredRow {
  readonly existing: boolean
  readonly email: string | null
  readonly overrides: string
  readonly digest: string | null
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `stored preferences did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })

/** The preferences of a user Herald has no row for: every default. */
const withoutRow = (userId: UserId) =>
  resolvePreferences({ userId, existingBeforeRollout: false, emailAddress: null, overrides: {}, digest: defaultDigestSettings })
