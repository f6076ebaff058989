/**
 * The JSON body every refused HTTP request gets, `{ "error", "message" }`
 * (plus fields such as `path` or `retryAfterMs` where they help), so a caller can tell a
 * Herald refusal from a proxy's.
 */
import { HttpServerResponse } from "effect/http"

export const problem = (status: number, error: string, message: string, extra: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe({ error, message, ...extra }, { status })

/** 429 with `Retry-After` (whole seconds, as HTTP wants) and the exact wait in the body. */
export const tooManyRequests = (retryAfterMs: number) =>
  HttpServerResponse.jsonUnsafe(
    { error: "RateLimited", message: `too many requests; retry after ${retryAfterMs} ms`, retryAfterMs },
    { status: 429, headers: { "retry-after": String(Math.ceil(retryAfterMs / 1000)) } }
  )
