/**
 * Checks the API key an app presents as `Authorization: Bearer <key>`.
 *
 * `HERALD_API_KEY` and `HERALD_ADMIN_KEY` each hold one key or several,
 * comma-separated, so a key is rotated without downtime: add the new one,
 * move the callers over, drop the old one. An entry written `sha256:<hex>`
 * is the key's SHA-256 digest, so the server's environment need not hold the
 * key itself. Only digests are kept in memory, and every presented key is
 * compared with `timingSafeEqual` against every entry (no early exit), so
 * neither a key's content nor which entry matched leaks through timing.
 */
import { ConfigurationError } from "@herald/domain"
import { Context, Effect, Layer, Redacted } from "effect"
import { hash, timingSafeEqual } from "node:crypto"
import { Secrets } from "../config/Secrets.ts"
import { bearerCredential } from "./Bearer.ts"

export type KeyScope = "app" | "admin"

/**
 * Who a key belongs to. Every app key belongs to the app `default` for now;
 * the `app` travels with the request so that data can be scoped by app once
 * Herald serves several (docs/security.md, tenancy).
 */
export interface Principal {
  readonly scope: KeyScope
  readonly app: string
  /** The first 8 hex digits of the key's digest: names the key in logs and rate limits, reveals nothing. */
  readonly keyId: string
}

export const DefaultApp = "default"

// Once per RPC call: the one-shot `hash` is several times cheaper than a Hash object.
const digest = (value: string) => hash("sha256", value, "buffer")
const HashedEntry = /^sha256:([0-9a-fA-F]{64})$/

/** The digests of a key list, or a message naming the variable and the entry (never its value). */
export const parseKeyList = (variable: string, list: string): ReadonlyArray<Buffer> | string => {
  const entries = list.split(",").map((entry) => entry.trim())
  const digests: Array<Buffer> = []
  for (const [index, entry] of entries.entries()) {
    const where = `${variable} entry ${index + 1} of ${entries.length}`
    if (entry.length === 0) return `${where} is empty (keys are separated by single commas)`
    if (/\s/.test(entry)) return `${where} contains whitespace`
    const hashed = HashedEntry.exec(entry)
    if (hashed !== null) digests.push(Buffer.from(hashed[1]!, "hex"))
    else if (entry.startsWith("sha256:")) return `${where} starts with sha256: but is not 64 hex digits`
    else if (entry.length < 8) return `${where} is shorter than 8 characters`
    else digests.push(digest(entry))
  }
  return digests
}

export class ApiKeys extends Context.Service<ApiKeys, {
  /** Who the `Authorization` header names, or undefined when it names no valid key. */
  principalOf(authorization: string | undefined): Principal | undefined
}>()("@herald/server/gateway/ApiKeys") {
  static readonly layer = Layer.effect(ApiKeys, Effect.gen(function*() {
    const secrets = yield* Secrets
    const parsed = (variable: string, list: Redacted.Redacted<string>) => {
      const result = parseKeyList(variable, Redacted.value(list))
      return typeof result === "string" ? Effect.fail(new ConfigurationError({ message: result })) : Effect.succeed(result)
    }
    const entries = [
      ...(yield* parsed("HERALD_API_KEY", secrets.apiKey)).map((key) => ({ key, scope: "app" as const })),
      ...(yield* parsed("HERALD_ADMIN_KEY", secrets.adminKey)).map((key) => ({ key, scope: "admin" as const }))
    ]
    const principalOf = (authorization: string | undefined): Principal | undefined => {
      const credential = bearerCredential(authorization)
      if (credential === undefined) return undefined
      const presented = digest(credential)
      let found: KeyScope | undefined
      for (const entry of entries) {
        if (timingSafeEqual(presented, entry.key) && found === undefined) found = entry.scope
      }
      return found === undefined ? undefined : { scope: found, app: DefaultApp, keyId: presented.toString("hex", 0, 4) }
    }
    return ApiKeys.of({ principalOf })
  }))
}
