import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { HttpClient } from "effect/http"

/** A tally the caller owns and may reset; `countedUndici` adds one per request sent. */
export interface RequestCount {
  count: number
}

/**
 * The real undici HttpClient, counting every request it sends into
 * `requests`. Counted on the HttpClient itself, so Notify publishes the
 * Herald client merged into one call count once.
 */
export const countedUndici = (requests: RequestCount): Layer.Layer<HttpClient.HttpClient> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, HttpClient.tapRequest(() => Effect.sync(() => requests.count++)))
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
