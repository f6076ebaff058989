/**
 * What Herald's own web pages ask the server before a user is signed in:
 * `GET /web-config` (public) says whether the development sign-in is on,
 * and `POST /dev/login` (only when it is: `HERALD_DEV_LOGIN`) hands out a
 * client token for any user id, so Herald can be tried without an app
 * backend that issues tokens. Anyone who reaches the port can sign in as
 * anyone while it is on: keep it off in production.
 *
 * @example
 * ```ts
 * import { DevLoginResponse } from "@herald/domain"
 * import { Schema } from "effect"
 *
 * const response = await fetch("/dev/login", { method: "POST", body: JSON.stringify({ userId: "alice" }) })
 * const { token } = Schema.decodeUnknownSync(DevLoginResponse)(await response.json())
 * ```
 */
import { Schema } from "effect"
import { UserId, UserIdInput } from "./Ids.ts"

/** How long a development sign-in lasts. */
export const DevLoginTtlSeconds = 12 * 3600

/** The body of `POST /dev/login`; a bad user id is reported in words, not as `UserId`'s RegExp. */
export const DevLoginRequest = Schema.Struct({ userId: UserIdInput })

/** The answer of `POST /dev/login`: a client token for `/rpc/me` and the socket. */
export class DevLoginResponse extends Schema.Class<DevLoginResponse>("@herald/domain/DevLoginResponse")({
  userId: UserId,
  token: Schema.String,
  expiresAt: Schema.DateTimeUtcFromString
}) {}

/** The answer of `GET /web-config`. */
export class WebConfig extends Schema.Class<WebConfig>("@herald/domain/WebConfig")({
  /** Whether `POST /dev/login` is on, so a page knows whether to offer it. */
  devLogin: Schema.Boolean
}) {}
