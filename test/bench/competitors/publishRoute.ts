/**
 * The HTTP side both competitor servers share: `GET /readyz` and
 * `POST /publish` with `{ userId, id, sentAt, payload }`, checked at the
 * edge. The handler is handed the message and the body text as it came (the
 * bare `ws` server writes that text unchanged) and answers how many sockets
 * it wrote to. A hand-written check rather than a Schema: the competitors
 * import nothing but their own libraries, so their memory and CPU are theirs.
 */
import type { IncomingMessage, ServerResponse } from "node:http"

export interface PublishMessage {
  readonly userId: string
  readonly id: string
  readonly sentAt: number
  readonly payload: unknown
}

const decode = (u: unknown): PublishMessage | undefined => {
  if (typeof u !== "object" || u === null || !("userId" in u) || !("id" in u) || !("sentAt" in u)) return undefined
  const { userId, id, sentAt } = u
  const payload = "payload" in u ? u.payload : undefined
  return typeof userId === "string" && typeof id === "string" && typeof sentAt === "number" ? { userId, id, sentAt, payload } : undefined
}

const answer = (response: ServerResponse, status: number, body: string) => {
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  response.end(body)
}

/** A request listener for the two routes; anything else is a 404. `ready()` gates `/readyz`. */
export const publishRoute = (
  ready: () => boolean,
  publish: (message: PublishMessage, text: string) => number
) =>
(request: IncomingMessage, response: ServerResponse): void => {
  if (request.method === "GET" && request.url === "/readyz") return answer(response, ready() ? 200 : 503, "{}")
  if (request.method !== "POST" || request.url !== "/publish") {
    // Socket.IO answers its own path; leave those requests alone.
    if (request.url?.startsWith("/socket.io/") === true) return
    return answer(response, 404, "{\"error\":\"not found\"}")
  }
  const chunks: Array<Buffer> = []
  request.on("data", (chunk: Buffer) => chunks.push(chunk))
  request.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8")
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return answer(response, 400, "{\"error\":\"not JSON\"}")
    }
    const message = decode(parsed)
    if (message === undefined) return answer(response, 400, "{\"error\":\"expected { userId, id, sentAt, payload }\"}")
    answer(response, 200, `{"delivered":${publish(message, text)}}`)
  })
}

/** Closes `close` on SIGINT or SIGTERM and exits 0, as the benchmark's `stop` expects. */
export const exitOnSignal = (close: () => Promise<void>) => {
  const stop = () => void close().finally(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}
