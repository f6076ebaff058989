/**
 * Client tokens: HS256 JWTs (via `jose`) that let a user's own client open a
 * socket for that user and nobody else. Audience and issuer are fixed so a
 * token minted for another purpose with the same secret is refused. A token
 * issued before its user's tokens were revoked (`herald token revoke`) is
 * refused as `invalid_token`.
 */
import { TokenRejected, UserId } from "@herald/domain"
import { Context, DateTime, Effect, Layer, Redacted, Schema } from "effect"
import { errors, jwtVerify, SignJWT } from "jose"
import { Secrets } from "../config/Secrets.ts"
import { TokenRevocations } from "./TokenRevocations.ts"

export const TokenAudience = "herald:socket"
export const TokenIssuer = "herald"

/** A token that verified: whose it is and when it was issued (its `iat`, epoch seconds). */
export interface VerifiedToken {
  readonly userId: UserId
  readonly issuedAt: number
}

export class ClientTokens extends Context.Service<ClientTokens, {
  issue(userId: UserId, ttlSeconds: number): Effect.Effect<{ readonly token: string; readonly expiresAt: DateTime.Utc }>
  verify(token: string): Effect.Effect<VerifiedToken, TokenRejected>
}>()("@herald/server/gateway/ClientTokens") {
  static readonly layer = Layer.effect(ClientTokens, Effect.gen(function*() {
    const secrets = yield* Secrets
    const revocations = yield* TokenRevocations
    const key = new TextEncoder().encode(Redacted.value(secrets.tokenSecret))
    const decodeSubject = Schema.decodeUnknownExit(UserId)

    const issue = Effect.fn("ClientTokens.issue")(function*(userId: UserId, ttlSeconds: number) {
      const now = yield* DateTime.now
      const expiresAt = DateTime.add(now, { seconds: ttlSeconds })
      const token = yield* Effect.promise(() =>
        new SignJWT({})
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setSubject(userId)
          .setAudience(TokenAudience)
          .setIssuer(TokenIssuer)
          .setIssuedAt(Math.floor(DateTime.toEpochMillis(now) / 1000))
          .setExpirationTime(Math.floor(DateTime.toEpochMillis(expiresAt) / 1000))
          .sign(key)
      )
      return { token, expiresAt }
    })

    const verify = Effect.fn("ClientTokens.verify")(function*(token: string) {
      const { payload } = yield* Effect.tryPromise({
        try: () => jwtVerify(token, key, { algorithms: ["HS256"], audience: TokenAudience, issuer: TokenIssuer, requiredClaims: ["exp", "sub"] }),
        catch: (cause) =>
          cause instanceof errors.JWTExpired
            ? new TokenRejected({ reason: "token_expired", message: "the token has expired" })
            : new TokenRejected({ reason: "invalid_token", message: `the token was refused: ${cause instanceof Error ? cause.message : "invalid"}` })
      })
      const subject = decodeSubject(payload.sub)
      if (subject._tag === "Failure") {
        return yield* new TokenRejected({ reason: "invalid_token", message: "the token's subject is not a valid user id" })
      }
      // Herald's own tokens always carry `iat`; one without it counts as older than any revocation.
      const issuedAt = payload.iat ?? 0
      if (revocations.isRevoked(subject.value, issuedAt)) {
        return yield* new TokenRejected({ reason: "invalid_token", message: "the token was revoked; ask the app for a new one" })
      }
      return { userId: subject.value, issuedAt }
    })

    return ClientTokens.of({ issue, verify })
  }))
}

