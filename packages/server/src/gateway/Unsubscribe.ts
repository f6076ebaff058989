/**
 * One-click unsubscribe from email (RFC 8058): each email carries a signed
 * link for its user and kind; `POST /unsubscribe?t=…` (what mail clients send
 * for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`) turns that kind's
 * email off, and `GET` shows a page with a button that does the same, so a
 * link scanner following the URL changes nothing.
 */
import { NotificationKind, TokenRejected, UserId } from "@herald/domain"
import { Context, DateTime, Effect, Layer, Redacted, Schema } from "effect"
import { jwtVerify, SignJWT } from "jose"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { Secrets } from "../config/Secrets.ts"

const Audience = "herald:unsubscribe"
const Issuer = "herald"
const LinkLifetimeDays = 365

/** What a link unsubscribes from: one kind's emails, or the digest (every kind routed to it). */
export const UnsubscribeScope = Schema.Union([NotificationKind, Schema.Literal("digest")])
export type UnsubscribeScope = typeof UnsubscribeScope.Type

const Claims = Schema.Struct({ sub: UserId, kind: UnsubscribeScope })

export class Unsubscribe extends Context.Service<Unsubscribe, {
  /** The absolute one-click link for the user's emails of this kind. */
  link(userId: UserId, kind: UnsubscribeScope): Effect.Effect<string>
  verify(token: string): Effect.Effect<{ readonly userId: UserId; readonly kind: UnsubscribeScope }, TokenRejected>
}>()("@herald/server/gateway/Unsubscribe") {
  static readonly layer = Layer.effect(Unsubscribe, Effect.gen(function*() {
    const config = yield* HeraldConfig
    const secrets = yield* Secrets
    const key = new TextEncoder().encode(Redacted.value(secrets.tokenSecret))
    const decodeClaims = Schema.decodeUnknownEffect(Claims)

    const link = Effect.fn("Unsubscribe.link")(function*(userId: UserId, kind: UnsubscribeScope) {
      const now = yield* DateTime.now
      const token = yield* Effect.promise(() =>
        new SignJWT({ kind })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject(userId)
          .setAudience(Audience)
          .setIssuer(Issuer)
          .setIssuedAt(Math.floor(DateTime.toEpochMillis(now) / 1000))
          .setExpirationTime(Math.floor(DateTime.toEpochMillis(DateTime.add(now, { days: LinkLifetimeDays })) / 1000))
          .sign(key)
      )
      return `${config.publicUrl}/unsubscribe?t=${token}`
    })

    const verify = Effect.fn("Unsubscribe.verify")(function*(token: string) {
      const { payload } = yield* Effect.tryPromise({
        try: () => jwtVerify(token, key, { algorithms: ["HS256"], audience: Audience, issuer: Issuer }),
        catch: () => new TokenRejected({ reason: "invalid_token", message: "this unsubscribe link is not valid" })
      })
      const claims = yield* decodeClaims(payload).pipe(
        Effect.mapError(() => new TokenRejected({ reason: "invalid_token", message: "this unsubscribe link is not valid" }))
      )
      return { userId: claims.sub, kind: claims.kind }
    })

    return Unsubscribe.of({ link, verify })
  }))
}
