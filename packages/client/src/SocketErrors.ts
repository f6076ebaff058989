/**
 * The errors only `NotificationSocket` raises. They live in the client, not in
 * `@herald/domain`, because no server reply carries them: they describe what
 * the socket client decided after a close code or a bad option.
 */
import { Schema } from "effect"

/**
 * The server closed the socket with 4401 (invalid token) or 4402 (token
 * expired) and the token was a fixed string, so reconnecting could only fail
 * again. Pass the token as an `Effect<string>` to have a fresh one fetched
 * instead.
 *
 * @example
 * ```ts
 * socket.notifications.pipe(
 *   Stream.runForEach(show),
 *   Effect.catchTag("SocketAuthError", (e) => Effect.logWarning(`sign in again: ${e.reason}`))
 * )
 * ```
 */
export class SocketAuthError extends Schema.TaggedError<SocketAuthError>()("SocketAuthError", {
  reason: Schema.Literals(["invalid_token", "token_expired"]),
  closeCode: Schema.Int,
  message: Schema.String
}) {}

/**
 * An option passed to `NotificationSocket.make` is invalid (for example a URL
 * that is not `ws://` or `wss://`); `message` names the field. Nothing was
 * opened.
 */
export class SocketOptionsError extends Schema.TaggedError<SocketOptionsError>()("SocketOptionsError", {
  message: Schema.String
}) {}

/** Every error that ends `NotificationSocket.notifications`; anything else is retried with backoff. */
export type SocketFatalError = SocketAuthError
