/**
 * The plumbing both typed clients share: an RPC client over HTTP POST with
 * a bearer key, and the mapping of every transport failure to Herald's
 * tagged errors (`Unauthorized`, `RateLimited`, `ServerUnreachable`, `InvalidRequest`).
 */
import { InvalidRequest, RateLimited, ServerUnreachable, Unauthorized } from "@herald/domain"
import { Effect, Predicate, Redacted, Schema, SchemaIssue } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { type Rpc, RpcClient, type RpcClientError, type RpcGroup } from "effect/rpc"

export interface RpcTransportOptions {
  readonly url: string
  /** The route on the server, `/rpc` or `/rpc/admin`. */
  readonly path: string
  readonly key: string | Redacted.Redacted<string>
  /** How the key is named in an `Unauthorized` message. */
  readonly keyName: string
}

export const makeRpcTransport = Effect.fnUntraced(function*<Rpcs extends Rpc.Any>(
  group: RpcGroup.RpcGroup<Rpcs>,
  options: RpcTransportOptions
) {
  const baseUrl = options.url.replace(/\/+$/, "")
  const key = Redacted.isRedacted(options.key) ? options.key : Redacted.make(options.key)
  const http = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest((request) =>
      request.pipe(
        HttpClientRequest.setUrl(`${baseUrl}${options.path}`),
        HttpClientRequest.bearerToken(Redacted.value(key))
      )
    ),
    HttpClient.filterStatusOk
  )
  const protocol = yield* RpcClient.makeProtocolHttp(http)
  const rpc = yield* RpcClient.make(group).pipe(Effect.provideService(RpcClient.Protocol, protocol))

  const call = <A, E>(effect: Effect.Effect<A, E | RpcClientError.RpcClientError>) =>
    effect.pipe(
      Effect.catchIf(isRpcClientError, (error) => Effect.fail(fromClientError(baseUrl, options.keyName, error))),
      Effect.catchDefect((defect) => Effect.fail(invalidFromDefect(defect)))
    )

  const decode = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, input: unknown) =>
    Schema.decodeUnknownEffect(schema)(input).pipe(
      Effect.mapError((error) => invalidFromIssue(error.issue))
    )

  return { baseUrl, rpc, call, decode }
})

const isRpcClientError = (u: unknown): u is RpcClientError.RpcClientError =>
  Predicate.isTagged(u, "RpcClientError")

const fromClientError = (
  url: string,
  keyName: string,
  error: RpcClientError.RpcClientError
): Unauthorized | RateLimited | ServerUnreachable => {
  const reason = error.reason
  if (reason._tag === "HttpError" && reason.kind === "StatusCodeError" && statusOf(reason.cause) === 401) {
    return new Unauthorized({ message: `the server refused the ${keyName} (401)` })
  }
  if (reason._tag === "HttpError" && reason.kind === "StatusCodeError" && statusOf(reason.cause) === 429) {
    const retryAfterMs = retryAfterOf(reason.cause)
    return new RateLimited({ message: `too many requests with this ${keyName}; retry after ${retryAfterMs} ms`, retryAfterMs })
  }
  const status = reason._tag === "HttpError" ? statusOf(reason.cause) : undefined
  return new ServerUnreachable({
    url,
    message: status === undefined ? describe(reason) : `the server answered HTTP ${status}; is ${url} a Herald server?`
  })
}

const describe = (reason: RpcClientError.RpcClientError["reason"]): string => {
  const cause: unknown = reason.cause
  const inner = Predicate.hasProperty(cause, "cause") ? cause.cause : undefined
  const text = [reason.message, Predicate.hasProperty(cause, "description") ? cause.description : undefined, inner instanceof Error ? inner.message : undefined]
    .filter((part) => Predicate.isString(part) && part !== "")
    .join(": ")
  return text === "" ? reason._tag : text
}

const statusOf = (cause: unknown): number | undefined =>
  Predicate.hasProperty(cause, "response") && Predicate.hasProperty(cause.response, "status") &&
    Predicate.isNumber(cause.response.status)
    ? cause.response.status
    : undefined

// `Retry-After` in seconds, as HTTP has it; one second when absent or not a number.
const retryAfterOf = (cause: unknown): number => {
  const headers = Predicate.hasProperty(cause, "response") && Predicate.hasProperty(cause.response, "headers")
    ? cause.response.headers
    : undefined
  const value = Predicate.hasProperty(headers, "retry-after") ? Number(headers["retry-after"]) : Number.NaN
  return Number.isFinite(value) && value >= 0 ? Math.max(1, value) * 1000 : 1000
}

/**
 * The server answers a payload that fails its schema with a defect whose
 * message is the schema issue, ending in `at ["items"][0]["kind"]`; this
 * turns it back into the typed error the caller can handle.
 */
const invalidFromDefect = (defect: unknown): InvalidRequest => {
  const text = Predicate.isString(defect)
    ? defect
    : Predicate.hasProperty(defect, "message") && Predicate.isString(defect.message)
    ? defect.message
    : String(defect)
  return invalidFromText(text)
}

const formatIssue = SchemaIssue.makeFormatterDefault()

const invalidFromIssue = (issue: SchemaIssue.Issue): InvalidRequest =>
  invalidFromText(formatIssue(issue))

/** Parses the `at [...]` line of a schema issue into a dotted path such as `items[0].kind`. */
export const invalidFromText = (text: string): InvalidRequest => {
  const at = /\n\s*at (\[.*\])\s*$/.exec(text)
  const path = at?.[1] === undefined ? "" : dottedPath(at[1])
  const message = at === null ? text : text.slice(0, at.index).trim()
  return new InvalidRequest({ path, message: path === "" ? message : `${path}: ${message}` })
}

const dottedPath = (bracketed: string): string =>
  bracketed.replace(/\["([^"]*)"\]/g, ".$1").replace(/^\./, "")

export const prefixPath = (prefix: string) => (error: InvalidRequest): InvalidRequest => {
  const path = error.path === "" ? prefix : error.path.startsWith("[") ? prefix + error.path : `${prefix}.${error.path}`
  return new InvalidRequest({ path, message: error.message.replace(error.path, path) })
}
