/**
 * The user id as traces show it: the first 16 hex digits of SHA-256 over
 * `herald-user:` and the id. It groups a user's spans, and lets an operator
 * who knows an id find its spans, without writing the id (often an email
 * address or an employee number) into a tracing backend. It is a
 * pseudonym, not a secret: a guessable id can be confirmed by hashing it.
 */
import { hash } from "node:crypto"

export const hashUserId = (userId: string): string =>
  hash("sha256", `herald-user:${userId}`, "hex").slice(0, 16)
