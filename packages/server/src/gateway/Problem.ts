/**
 * The JSON body every refused HTTP request gets, `{ "error", "message" }`
 * (plus fields such as `path` where they help), so a caller can tell a
 * Herald refusal from a proxy's.
 */
import { HttpServerResponse } from "effect/http"

export const problem = (status: number, error: string, message: string, extra: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe({ error, message, ...extra }, { status })
