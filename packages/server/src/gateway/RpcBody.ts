/**
 * Checks an RPC request's body before the RPC server sees it, for the two
 * ways a well-meaning client could otherwise get an unhelpful answer:
 *
 * - a body over `HERALD_MAX_REQUEST_BYTES` sent without `Content-Length`
 *   (chunked) would be cut off inside the RPC server with an empty 413;
 * - a batch of messages repeating a request id makes effect/rpc interrupt
 *   the call midway (HTTP 503, some requests done and some not), which a
 *   client would retry, doing the done ones twice.
 *
 * Both get a problem body naming the cause, and nothing is done. The body is
 * read once: the RPC server reads the same cached text.
 */
import { Effect, Schema } from "effect"
import { HttpServerRequest, type HttpServerResponse } from "effect/http"
import { problem } from "./Problem.ts"

const Batch = Schema.fromJsonString(Schema.Array(Schema.Struct({ id: Schema.optionalKey(Schema.Unknown) })))
const decodeBatch = Schema.decodeUnknownOption(Batch)

export const refuseRpcBody = (maxBytes: number): Effect.Effect<HttpServerResponse.HttpServerResponse | undefined, never, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Effect.result(request.text)
    if (text._tag === "Failure") {
      const reason = text.failure.reason
      return reason._tag === "RequestParseError" && reason.reason === "BodyTooLarge"
        ? problem(413, "PayloadTooLarge", `request bodies are limited to ${maxBytes} bytes (HERALD_MAX_REQUEST_BYTES)`)
        : problem(400, "BadRequest", "the request body could not be read")
    }
    // Only a batch can repeat an id; a single message is an object.
    if (!text.success.trimStart().startsWith("[")) return undefined
    const batch = decodeBatch(text.success)
    if (batch._tag === "None") return undefined
    const seen = new Set<string>()
    for (const message of batch.value) {
      if (message.id === undefined) continue
      const id = JSON.stringify(message.id)
      if (seen.has(id)) return problem(400, "InvalidRequest", `request id ${id} appears twice in one batch; give each request its own id`, { path: "id" })
      seen.add(id)
    }
    return undefined
  })
