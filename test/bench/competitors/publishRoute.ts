/**
 * The HTTP side both competitor servers share: `GET /readyz` and
 * `POST /publish` with `{ userId, id, sentAt, payload }`, or a JSON array of
 * them (the benchmark's coalesced publishes), checked at the edge. The
 * handler is called once per message, with the message and its JSON text
 * (the bare `ws` server writes that text to the sockets), and answers how
 * many sockets it wrote to; the route answers the sum. A hand-written check
 * rather than a Schema: the competitors import nothing but their own
 * libraries, so their memory and CPU are theirs.
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

/**
 * A message's JSON text, made only when the handler asks (Socket.IO never
 * does): a lone message's is the body as it came, an array element's is the
 * element serialised again.
 */
export type MessageText = () => string

const answer = (response: ServerResponse, status: number, body: string) => {
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  response.end(body)
}

/**
 * A request listener for the two routes; anything else is a 404. `ready()`
 * gates `/readyz`. `publish` answers how many sockets it wrote to, or -1
 * when it cannot know; the sum is -1 then too.
 */
export const publishRoute = (
  ready: () => boolean,
  publish: (message: PublishMessage, text: MessageText) => number
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
    if (!Array.isArray(parsed)) {
      const message = decode(parsed)
      if (message === undefined) return answer(response, 400, "{\"error\":\"expected { userId, id, sentAt, payload } or an array of them\"}")
      return answer(response, 200, `{"delivered":${publish(message, () => text)}}`)
    }
    const elements: ReadonlyArray<unknown> = parsed
    const messages = elements.map(decode)
    const bad = messages.findIndex((message) => message === undefined)
    if (elements.length === 0 || bad >= 0) {
      return answer(response, 400, `{"error":"expected a non-empty array of { userId, id, sentAt, payload }${bad >= 0 ? `, not at [${bad}]` : ""}"}`)
    }
    // Every message is checked before any is sent, so a bad batch sends nothing, as a bad lone message does.
    let delivered = 0
    messages.forEach((message, k) => {
      if (message === undefined) return
      const wrote = publish(message, () => JSON.stringify(elements[k]))
      delivered = delivered < 0 || wrote < 0 ? -1 : delivered + wrote
    })
    answer(response, 200, `{"delivered":${delivered}}`)
  })
}

/** Closes `close` on SIGINT or SIGTERM and exits 0, as the benchmark's `stop` expects. */
export const exitOnSignal = (close: () => Promise<void>) => {
  const stop = () => void close().finally(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}
