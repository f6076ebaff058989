/**
 * What became of one push to one device token, and how firebase-admin's
 * errors map onto it. The mapping follows the SDK's error codes
 * (`messaging/*`, `app/*`), which it derives from FCM's HTTP v1 error body
 * (`details[].errorCode`, e.g. `UNREGISTERED`), and reads the `Retry-After`
 * header the SDK keeps on `error.httpResponse.headers`.
 *
 * Gotchas:
 * - firebase-admin maps `QUOTA_EXCEEDED` to `messaging/message-rate-exceeded`
 *   (there is no `messaging/quota-exceeded`).
 * - `messaging/invalid-argument` is a bad token only when FCM said so: the SDK
 *   raises the same code for its own client-side validation of the payload
 *   (no `httpResponse` then), and FCM for a bad payload names the offending
 *   field in a `BadRequest` detail. Neither must delete the user's device.
 * - The SDK already retries a 503 (and connection resets) up to 4 times,
 *   honouring a `Retry-After` of up to 60 s, before an error reaches us.
 */
import { Predicate, Schema } from "effect"

/** What became of one push to one device token. */
export const PushOutcome = Schema.TaggedUnion({
  /** FCM accepted the message; `messageId` is its `projects/…/messages/…` name. */
  Sent: { token: Schema.String, messageId: Schema.String },
  /** The token is dead for good (unregistered, or not a valid token): delete the device. */
  InvalidToken: { token: Schema.String, code: Schema.String, reason: Schema.String },
  /** Throttled, FCM trouble or network: try again, after `retryAfterMs` when FCM said. */
  Retryable: { token: Schema.String, code: Schema.String, reason: Schema.String, retryAfterMs: Schema.optionalKey(Schema.Number) },
  /** Refused for good for a reason other than the token (payload, credentials, sender mismatch). */
  Failed: { token: Schema.String, code: Schema.String, reason: Schema.String }
})
export type PushOutcome = typeof PushOutcome.Type

export const sent = (token: string, messageId: string): PushOutcome => PushOutcome.cases.Sent.make({ token, messageId })
export const invalidToken = (token: string, code: string, reason: string): PushOutcome =>
  PushOutcome.cases.InvalidToken.make({ token, code, reason })
export const retryable = (token: string, code: string, reason: string, retryAfterMs?: number): PushOutcome =>
  PushOutcome.cases.Retryable.make(retryAfterMs === undefined ? { token, code, reason } : { token, code, reason, retryAfterMs })
export const failed = (token: string, code: string, reason: string): PushOutcome =>
  PushOutcome.cases.Failed.make({ token, code, reason })

const invalidTokenCodes = new Set([
  "messaging/registration-token-not-registered",
  "messaging/invalid-registration-token"
])

const retryableCodes = new Set([
  "messaging/server-unavailable",
  "messaging/internal-error",
  "messaging/message-rate-exceeded",
  "messaging/device-message-rate-exceeded",
  "messaging/topics-message-rate-exceeded",
  "app/network-error",
  "app/network-timeout"
])

/** The parts of a firebase-admin error (`FirebaseError`) the mapping reads. */
const SdkError = Schema.Struct({
  code: Schema.String,
  message: Schema.String,
  httpResponse: Schema.optionalKey(Schema.Struct({
    status: Schema.Number,
    headers: Schema.Record(Schema.String, Schema.Unknown),
    data: Schema.optionalKey(Schema.Unknown)
  })),
  cause: Schema.optionalKey(Schema.Unknown)
})
const decodeSdkError = Schema.decodeUnknownOption(SdkError)

/** FCM's `google.rpc.BadRequest` detail: which request fields it refused. */
const FieldViolations = Schema.Struct({
  error: Schema.Struct({
    details: Schema.Array(Schema.Struct({
      fieldViolations: Schema.optionalKey(Schema.Array(Schema.Struct({ field: Schema.String })))
    }))
  })
})
const decodeFieldViolations = Schema.decodeUnknownOption(FieldViolations)

/** An HTTP status on the cause of `app/invalid-credential` (a gaxios error from the token endpoint). */
const TokenEndpointFailure = Schema.Union([
  Schema.Struct({ status: Schema.Number }),
  Schema.Struct({ response: Schema.Struct({ status: Schema.Number }) })
])
const decodeTokenEndpointFailure = Schema.decodeUnknownOption(TokenEndpointFailure)

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from `nowMillis`. */
export const parseRetryAfter = (value: unknown, nowMillis: number): number | undefined => {
  const header = Array.isArray(value) ? value[0] : value
  if (!Predicate.isString(header) || header.trim() === "") return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMillis)
}

const truncate = (text: string) => (text.length > 300 ? `${text.slice(0, 297)}...` : text)

/** True when FCM's 400 names a field other than the token: the payload is at fault, not the device. */
const payloadRejected = (data: unknown): boolean => {
  const decoded = decodeFieldViolations(data)
  if (decoded._tag === "None") return false
  const fields = decoded.value.error.details.flatMap((detail) => detail.fieldViolations ?? []).map((v) => v.field)
  return fields.length > 0 && !fields.some((field) => field === "message.token" || field === "token")
}

/** Maps whatever firebase-admin rejected with for `token` to an outcome. */
export const fromSdkError = (token: string, error: unknown, nowMillis: number): PushOutcome => {
  const decoded = decodeSdkError(error)
  if (decoded._tag === "None") {
    const reason = truncate(`unexpected error from firebase-admin: ${Predicate.isError(error) ? error.message : String(error)}`)
    return failed(token, "unknown", reason)
  }
  const { code, httpResponse, cause } = decoded.value
  const reason = truncate(`${code}: ${decoded.value.message}`)
  const status = httpResponse?.status

  if (invalidTokenCodes.has(code)) return invalidToken(token, code, reason)
  if (code === "messaging/invalid-argument") {
    return httpResponse !== undefined && !payloadRejected(httpResponse.data)
      ? invalidToken(token, code, reason)
      : failed(token, code, reason)
  }

  const transient = retryableCodes.has(code) ||
    (code === "messaging/unknown-error" && (status === undefined || status === 429 || status >= 500)) ||
    (code === "app/invalid-credential" && tokenEndpointTransient(cause))
  if (!transient) return failed(token, code, reason)
  const retryAfterMs = httpResponse === undefined ? undefined : parseRetryAfter(httpResponse.headers["retry-after"], nowMillis)
  return retryable(token, code, reason, retryAfterMs)
}

/** The OAuth token could not be fetched: transient unless Google's token endpoint refused the key (4xx). */
const tokenEndpointTransient = (cause: unknown): boolean => {
  const failure = decodeTokenEndpointFailure(cause)
  if (failure._tag === "None") return true
  const status = "status" in failure.value ? failure.value.status : failure.value.response.status
  return status === 408 || status === 429 || status >= 500
}
