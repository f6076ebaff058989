/**
 * The preferences publishes route by, kept in memory per node with the
 * version they were read at. Nothing invalidates an entry from outside: the
 * insert that stores a publish checks the version against the user's row
 * (`PublishStatements.insertRows`), and a user whose preferences changed
 * since, on any node, is read again and written again. So an entry can be
 * old but never wrong, and the cache needs no messages between nodes.
 */
import type { Preferences, UserId } from "@herald/domain"

/** A user's preferences with the `preferences_version` of the row they were read from (0: no row). */
export interface VersionedPreferences {
  readonly preferences: Preferences
  readonly version: number
}

export interface PreferencesCache {
  readonly get: (userId: UserId) => VersionedPreferences | undefined
  /** Keeps `entry` unless a newer version of the user's preferences is already held. */
  readonly offer: (userId: UserId, entry: VersionedPreferences) => void
}

/**
 * At most `capacity` users, the oldest stored dropped first: a dropped user costs one read at
 * their next publish, and a user's entry (defaults shared) is a few hundred bytes.
 */
export const makePreferencesCache = (capacity: number): PreferencesCache => {
  const entries = new Map<UserId, VersionedPreferences>()
  return {
    get: (userId) => entries.get(userId),
    offer: (userId, entry) => {
      const held = entries.get(userId)
      if (held !== undefined) {
        if (held.version > entry.version) return
        entries.delete(userId)
      } else if (entries.size >= capacity) {
        const oldest = entries.keys().next()
        if (oldest.done !== true) entries.delete(oldest.value)
      }
      entries.set(userId, entry)
    }
  }
}
