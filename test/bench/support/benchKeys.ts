/**
 * Fresh keys for one benchmark run: the app and admin keys and token secret
 * its servers start with, a run id for idempotency keys and titles, and
 * client tokens signed the way Herald's `ClientTokens` expects them (with
 * this process's secret, or one handed over by the process that made it).
 */
import { SignJWT } from "jose"
import { randomBytes } from "node:crypto"

export const apiKey = `bench-app-${randomBytes(12).toString("hex")}`
export const adminKey = `bench-admin-${randomBytes(12).toString("hex")}`
export const tokenSecret = randomBytes(32).toString("hex")
export const runId = randomBytes(4).toString("hex")

/** A client token for `user` signed with `secret`: a load generator process is handed the run's secret. */
export const signTokenWith = (secret: string, user: string): Promise<string> =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user)
    .setAudience("herald:socket")
    .setIssuer("herald")
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(new TextEncoder().encode(secret))

export const signToken = (user: string): Promise<string> => signTokenWith(tokenSecret, user)
