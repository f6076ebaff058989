/**
 * The signed-in user of the notification center and preferences pages: a
 * Herald client token, kept in sessionStorage, with the user id and expiry
 * read from the token's claims.
 *
 * A token arrives either from the dev login or in the URL fragment
 * (`/#token=…`), which is how an app hands its user over: a fragment never
 * reaches a server log. It is read once, stored, and stripped from the URL
 * so it is not bookmarked or shared.
 *
 * The claims are only read, never verified: the server checks the signature
 * on every call, and a refused token sends the page back to the sign-in.
 */
import { Socket, UserId } from "@herald/domain"
import { DateTime, Exit, Option, Schema } from "effect"
import { storedValue } from "./storage.ts"

/** A client token as the socket protocol takes it: a JWT, three base64url parts. */
export const ClientToken = Socket.AuthFrame.fields.token.pipe(
  Schema.check(Schema.isPattern(/^[\w-]+\.[\w-]+\.[\w-]+$/, { description: "a client token (a JWT)" }))
)

export const Session = Schema.Struct({
  token: ClientToken,
  userId: UserId,
  /** Epoch milliseconds; the page signs out by itself after it. */
  expiresAt: Schema.Finite
})
export type Session = typeof Session.Type

const stored = storedValue("herald.session", Session)

const Claims = Schema.Struct({ sub: UserId, exp: Schema.Finite })
const decodeClaims = Schema.decodeUnknownExit(Schema.StringFromBase64Url.pipe(Schema.decodeTo(Schema.fromJsonString(Claims))))
const decodeToken = Schema.decodeUnknownExit(ClientToken)

/** The session a token carries, or none when it is not a Herald client token. */
export const sessionFromToken = (token: unknown): Option.Option<Session> => {
  const decoded = decodeToken(token)
  if (Exit.isFailure(decoded)) return Option.none()
  const claims = decodeClaims(decoded.value.split(".")[1])
  if (Exit.isFailure(claims)) return Option.none()
  return Option.some({ token: decoded.value, userId: claims.value.sub, expiresAt: claims.value.exp * 1000 })
}

export type FragmentToken =
  | { readonly _tag: "none" }
  | { readonly _tag: "accepted"; readonly session: Session }
  | { readonly _tag: "refused" }

/** Reads `#token=…`, stores it when it is a client token, and removes it from the address bar either way. */
export const takeFragmentToken = (): FragmentToken => {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""))
  const token = fragment.get("token")
  if (token === null) return { _tag: "none" }
  fragment.delete("token")
  const rest = fragment.toString()
  history.replaceState(history.state, "", `${location.pathname}${location.search}${rest === "" ? "" : `#${rest}`}`)
  const session = sessionFromToken(token)
  if (Option.isNone(session)) return { _tag: "refused" }
  stored.set(session.value)
  return { _tag: "accepted", session: session.value }
}

/** The stored session when it has not expired yet. */
export const currentSession = (now: number = Date.now()): Option.Option<Session> =>
  Option.filter(stored.get(), (session) => session.expiresAt > now)

export const saveSession = (session: Session): void => stored.set(session)

export const forgetSession = (): void => stored.remove()

/** The session the dev login answered with: its expiry is the server's, not read from the claims. */
export const devSession = (answer: { readonly userId: UserId; readonly token: string; readonly expiresAt: DateTime.Utc }) =>
  Option.map(sessionFromToken(answer.token), (session): Session => ({
    ...session,
    userId: answer.userId,
    expiresAt: DateTime.toEpochMillis(answer.expiresAt)
  }))
