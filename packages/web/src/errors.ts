/**
 * What the pages do with a failed effect: the error a person should read, and
 * whether it means "sign in again". Every failure ends in the page's alert
 * region or next to a field; none is dropped.
 */
import { Cause, Option, Predicate, Schema } from "effect"

/** A page-level HTTP call (`/web-config`, `/dev/login`) failed; `message` says what to do. */
export class WebRequestFailed extends Schema.TaggedError<WebRequestFailed>()("WebRequestFailed", {
  message: Schema.String
}) {}

/** The credential the page holds was refused (RPC 401, or the socket closed with 4401/4402). */
export const isRefusedCredential = (error: unknown): boolean =>
  Predicate.isTagged(error, "Unauthorized") || Predicate.isTagged(error, "SocketAuthError")

const messageOf = (error: unknown): string =>
  Predicate.hasProperty(error, "message") && Predicate.isString(error.message) && error.message !== ""
    ? error.message
    : String(error)

/** A sentence for the alert region; expected errors by their message, defects marked as such. */
export const describeCause = <E>(cause: Cause.Cause<E>): string => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error)) {
    const value: unknown = error.value
    if (Predicate.isTagged(value, "ServerUnreachable")) return `Herald could not be reached: ${messageOf(value)}`
    if (Predicate.isTagged(value, "StorageUnavailable")) return `Herald's storage is unavailable; try again: ${messageOf(value)}`
    return messageOf(value)
  }
  return `Something went wrong in this page: ${messageOf(Cause.squash(cause))}`
}

/** The expected error of a failed cause, if it has one. */
export const errorOf = <E>(cause: Cause.Cause<E>): Option.Option<E> => Cause.findErrorOption(cause)
