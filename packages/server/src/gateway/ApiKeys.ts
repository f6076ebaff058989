/**
 * Checks the API key an app presents as `Authorization: Bearer <key>`.
 * Keys are compared as SHA-256 digests with `timingSafeEqual`, so neither
 * the length nor the content of a key leaks through timing.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { Secrets } from "../config/Secrets.ts"
import { bearerCredential } from "./Bearer.ts"

export type KeyScope = "app" | "admin"

const digest = (value: string) => createHash("sha256").update(value).digest()

export class ApiKeys extends Context.Service<ApiKeys, {
  /** The scope the `Authorization` header grants, or undefined when it grants nothing. */
  scopeOf(authorization: string | undefined): KeyScope | undefined
}>()("@herald/server/gateway/ApiKeys") {
  static readonly layer = Layer.effect(ApiKeys, Effect.gen(function*() {
    const secrets = yield* Secrets
    const app = digest(Redacted.value(secrets.apiKey))
    const admin = digest(Redacted.value(secrets.adminKey))
    return ApiKeys.of({
      scopeOf: (authorization) => {
        const credential = bearerCredential(authorization)
        if (credential === undefined) return undefined
        const presented = digest(credential)
        if (timingSafeEqual(presented, app)) return "app"
        if (timingSafeEqual(presented, admin)) return "admin"
        return undefined
      }
    })
  }))
}
