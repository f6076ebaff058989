/**
 * One value kept in `sessionStorage` as JSON, decoded with its schema on every
 * read: storage is outside the page's control (another version of the page,
 * the user's devtools), so a value that no longer decodes reads as absent and
 * is removed, never trusted.
 *
 * sessionStorage, not localStorage: a token or an admin key lives as long as
 * the tab, and a closed tab forgets it.
 */
import { Exit, Option, Schema } from "effect"

export interface StoredValue<A> {
  readonly get: () => Option.Option<A>
  readonly set: (value: A) => void
  readonly remove: () => void
}

// Storage can throw (disabled cookies, a sandboxed frame); the pages then behave as if nothing were stored.
const storage = (): Storage | undefined => {
  try {
    return window.sessionStorage
  } catch {
    return undefined
  }
}

export const storedValue = <S extends Schema.Top & { readonly DecodingServices: never; readonly EncodingServices: never }>(
  key: string,
  schema: S
): StoredValue<S["Type"]> => {
  const json = Schema.fromJsonString(schema)
  const decode = Schema.decodeUnknownExit(json)
  const encode = Schema.encodeUnknownExit(json)
  return {
    get: () => {
      const text = storage()?.getItem(key)
      if (text === null || text === undefined) return Option.none()
      const decoded = decode(text)
      if (Exit.isSuccess(decoded)) return Option.some(decoded.value)
      storage()?.removeItem(key)
      return Option.none()
    },
    set: (value) => {
      const encoded = encode(value)
      if (Exit.isSuccess(encoded)) storage()?.setItem(key, encoded.value)
    },
    remove: () => storage()?.removeItem(key)
  }
}
