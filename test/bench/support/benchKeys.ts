/**
 * Fresh keys for one benchmark run: the app and admin keys and token secret
 * its servers start with, a run id for idempotency keys and titles, and
 * client tokens signed the way Herald's `ClientTokens` expects them.
 */
import { SignJWT } from "jose"
import { randomBytes } from "node:crypto"

export const apiKey = `bench-app-${randomBytes(12).toString("hex")}`
export const adminKey = `bench-admin-${randomBytes(12).toString("hex")}`
export const tokenSecret = randomBytes(32).toString("hex")
export const runId = randomBytes(4).toString("hex")

export const signToken = (user: string): Promise<string> =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user)
    .setAudience("herald:socket")
    .setIssuer("herald")
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(new TextEncoder().encode(tokenSecret))
