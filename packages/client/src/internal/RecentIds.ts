/**
 * A set that forgets its oldest entries beyond `capacity`, so deduplicating a
 * socket that stays open for weeks does not grow without bound. A `Set` keeps
 * insertion order, which makes the oldest entry the first one.
 */
export interface RecentIds {
  readonly has: (id: string) => boolean
  readonly add: (id: string) => void
}

export const makeRecentIds = (capacity: number): RecentIds => {
  const ids = new Set<string>()
  return {
    has: (id) => ids.has(id),
    add: (id) => {
      ids.add(id)
      if (ids.size > capacity) {
        const oldest = ids.values().next()
        if (oldest.done !== true) ids.delete(oldest.value)
      }
    }
  }
}
