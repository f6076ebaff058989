/**
 * The typed errors that cross Herald's boundaries: RPC replies, the client
 * and the CLI all see these same classes.
 */
import { Schema } from "effect"

/** The API key (or, on `/rpc/me`, the client token) is missing, wrong or expired (HTTP 401). Nothing was read or written. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  message: Schema.String
}) {}

/**
 * A request field failed validation. `path` names the field (for example
 * `items[0].kind`); nothing was written.
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  path: Schema.String,
  message: Schema.String
}) {}

/**
 * Herald could not reach its storage. Nothing is half-written: each user's
 * items of a call are stored together or not at all, though in a call for
 * several users some users' items may have been stored. Retry the whole call
 * with the same idempotency keys: what was stored is answered as a
 * duplicate, the rest is stored now. Items without a key may then be stored
 * twice, which is what the keys are for.
 */
export class StorageUnavailable extends Schema.TaggedError<StorageUnavailable>()("StorageUnavailable", {
  message: Schema.String,
  retryable: Schema.Boolean
}) {}

/** The server could not be reached or answered something that is not Herald's protocol. */
export class ServerUnreachable extends Schema.TaggedError<ServerUnreachable>()("ServerUnreachable", {
  url: Schema.String,
  message: Schema.String
}) {}

/** Herald cannot start as configured; `message` says which setting and why. */
export class ConfigurationError extends Schema.TaggedError<ConfigurationError>()("ConfigurationError", {
  message: Schema.String
}) {}

/** A client token was refused: `invalid_token` (bad signature, audience, issuer or subject) or `token_expired`. */
export class TokenRejected extends Schema.TaggedError<TokenRejected>()("TokenRejected", {
  reason: Schema.Literals(["invalid_token", "token_expired"]),
  message: Schema.String
}) {}

/**
 * Too many calls with this key (HTTP 429, `Retry-After`). Nothing was read or
 * written; the same call may be sent again after `retryAfterMs`.
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  message: Schema.String,
  retryAfterMs: Schema.Int
}) {}
