/**
 * The two plain HTTP endpoints the pages use besides RPC: `GET /web-config`
 * (whether the dev login is on) and `POST /dev/login` (a client token for any
 * user, on development servers only). Both answer JSON, decoded here.
 */
import { DevLoginResponse, type UserId, WebConfig } from "@herald/domain"
import { Effect, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { WebRequestFailed } from "./errors.ts"

const decodeJson = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, what: string) =>
  (response: HttpClientResponse.HttpClientResponse) =>
    response.json.pipe(
      Effect.flatMap(Schema.decodeUnknownEffect(schema)),
      Effect.mapError(() => new WebRequestFailed({ message: `${what}: the server's answer is not what this page expects` }))
    )

const unreachable = (what: string) => (error: { readonly message: string }) =>
  new WebRequestFailed({ message: `${what}: Herald could not be reached (${error.message})` })

/** What this server offers the pages. */
export const webConfig: Effect.Effect<WebConfig, WebRequestFailed> = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.get(`${location.origin}/web-config`).pipe(Effect.mapError(unreachable("Loading the page settings")))
  if (response.status !== 200) {
    return yield* new WebRequestFailed({ message: `Loading the page settings: the server answered HTTP ${response.status}` })
  }
  return yield* decodeJson(WebConfig, "Loading the page settings")(response)
}).pipe(Effect.provide(FetchHttpClient.layer))

/** A client token for `userId` from the development login. */
export const devLogin = (userId: UserId): Effect.Effect<DevLoginResponse, WebRequestFailed> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const request = HttpClientRequest.post(`${location.origin}/dev/login`).pipe(HttpClientRequest.bodyJsonUnsafe({ userId }))
    const response = yield* client.execute(request).pipe(Effect.mapError(unreachable("Signing in")))
    if (response.status === 404) {
      return yield* new WebRequestFailed({ message: "Signing in: the development login is turned off on this server" })
    }
    if (response.status !== 200) {
      return yield* new WebRequestFailed({ message: `Signing in: the server answered HTTP ${response.status}` })
    }
    return yield* decodeJson(DevLoginResponse, "Signing in")(response)
  }).pipe(Effect.provide(FetchHttpClient.layer))
