/**
 * The user row: preference overrides, the email address and the
 * existing-before-rollout flag. Written only by the user's mailbox entity,
 * which caches what it read. Publishes route by `routingPreferencesOf`,
 * which keeps what it read in memory (`PreferencesCache`) with the row's
 * version; the insert checks that version, so a change on another node is
 * read again rather than missed.
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
import { makePreferencesCache, type VersionedPreferences } from "./PreferencesCache.ts"

const OverridesJson = Schema.fromJsonString(PreferenceOverrides)
const DigestJson = Schema.fromJsonString(DigestSettings)

export class UserRepo extends Context.Service<UserRepo, {
  preferences(userId: UserId): Effect.Effect<Preferences, StorageUnavailable>
  /** Several users' preferences in one query (replays route a page of many users' items). */
  preferencesOf(userIds: ReadonlyArray<UserId>): Effect.Effect<ReadonlyMap<UserId, Preferences>, StorageUnavailable>
  /**
   * The preferences to route publishes by, with their versions: from memory where this node
   * has them, the others in one query. The insert that stores the publish checks the version.
   */
  routingPreferencesOf(userIds: ReadonlyArray<UserId>): Effect.Effect<ReadonlyMap<UserId, VersionedPreferences>, StorageUnavailable>
  /** As `routingPreferencesOf`, read from the database for every user: their versions moved on. */
  reloadRoutingPreferencesOf(userIds: ReadonlyArray<UserId>): Effect.Effect<ReadonlyMap<UserId, VersionedPreferences>, StorageUnavailable>
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

    const versionedOf = Effect.fn("UserRepo.preferencesOf")(function*(userIds: ReadonlyArray<UserId>) {
      const unique = [...new Set(userIds)]
      if (unique.length === 0) return new Map<UserId, VersionedPreferences>()
      const rows = yield* sql<StoredRow & { readonly userId: string; readonly version: number }>`
        SELECT user_id AS "userId", existing_before_rollout AS existing, email_address AS email,
          preference_overrides::text AS overrides, digest_settings::text AS digest,
          preferences_version::float8 AS version
        FROM herald_users WHERE user_id IN ${sql.in(unique)}`.pipe(Effect.mapError(unavailable))
      const byId = new Map(rows.map((row) => [row.userId, row]))
      const found = yield* Effect.forEach(unique, (userId) => {
        const row = byId.get(userId)
        return load(userId, Effect.succeed(row === undefined ? [] : [row])).pipe(
          Effect.map((preferences) => [userId, { preferences, version: row?.version ?? 0 }] as const),
          Effect.mapError(unavailable)
        )
      })
      return new Map(found)
    })

    const preferencesOf = (userIds: ReadonlyArray<UserId>) =>
      Effect.map(versionedOf(userIds), (found) => new Map(Array.from(found, ([userId, { preferences }]) => [userId, preferences])))

    const cache = makePreferencesCache(CachedUsers)

    const reloadRoutingPreferencesOf = (userIds: ReadonlyArray<UserId>) =>
      Effect.map(versionedOf(userIds), (found) => {
        found.forEach((entry, userId) => cache.offer(userId, entry))
        return found
      })

    const routingPreferencesOf = (userIds: ReadonlyArray<UserId>) =>
      Effect.suspend(() => {
        const held = new Map<UserId, VersionedPreferences>()
        const missing: Array<UserId> = []
        for (const userId of userIds) {
          const entry = cache.get(userId)
          if (entry === undefined) missing.push(userId)
          else held.set(userId, entry)
        }
        if (missing.length === 0) return Effect.succeed(held)
        return Effect.map(reloadRoutingPreferencesOf(missing), (read) => {
          read.forEach((entry, userId) => held.set(userId, entry))
          return held
        })
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
        const [updated] = yield* sql<{ readonly version: number }>`
          UPDATE herald_users SET
            existing_before_rollout = ${existing},
            email_address = ${email},
            preference_overrides = ${yield* encodeOverrides(overrides)}::jsonb,
            digest_settings = ${yield* encodeDigest(digest)}::jsonb,
            preferences_updated_at = now(),
            preferences_version = preferences_version + 1
            ${rescheduled}
          WHERE user_id = ${userId}
          RETURNING preferences_version::float8 AS version`
        const preferences = resolvePreferences({ userId, existingBeforeRollout: existing, emailAddress: email, overrides, digest })
        return { preferences, version: updated?.version ?? 0 }
      })).pipe(
        Effect.mapError(unavailable),
        // Only once committed: a version this node holds is one the row has had.
        Effect.map((entry) => {
          cache.offer(userId, entry)
          return entry.preferences
        })
      )
    })

    // Mailboxes waking in the same tick share one read (publishes use preferencesOf, once per
    // writer batch); a user with no row gets the defaults.
    const preferences = batchedByUser((userIds) => preferencesOf(userIds), withoutRow)

    return UserRepo.of({ preferences, preferencesOf, routingPreferencesOf, reloadRoutingPreferencesOf, updatePreferences })
  }))
}

// A node routes most publishes from memory; beyond this many users the oldest read is dropped.
const CachedUsers = 100_000

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
