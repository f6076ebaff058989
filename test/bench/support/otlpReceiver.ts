/**
 * A local OTLP/HTTP receiver for the benchmark: it accepts what Herald's
 * exporters POST to `/v1/traces` and `/v1/metrics`, answers 200 as a
 * collector would, and counts requests and bytes, so the cost of exporting
 * is paid end to end without a real backend.
 */
import { createServer, type Server } from "node:http"

export interface OtlpReceiver {
  readonly url: string
  readonly counts: () => Readonly<Record<string, { readonly requests: number; readonly bytes: number }>>
  readonly close: () => Promise<void>
}

export const startOtlpReceiver = (): Promise<OtlpReceiver> =>
  new Promise((resolve) => {
    const counts: Record<string, { requests: number; bytes: number }> = {}
    const server: Server = createServer((request, response) => {
      const path = (request.url ?? "/").split("?")[0] ?? "/"
      const entry = counts[path] ?? (counts[path] = { requests: 0, bytes: 0 })
      entry.requests++
      request.on("data", (chunk: Buffer) => {
        entry.bytes += chunk.length
      })
      request.on("end", () => {
        response.writeHead(200, { "content-type": request.headers["content-type"] ?? "application/json" })
        response.end(request.headers["content-type"] === "application/json" ? "{}" : "")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = address !== null && typeof address === "object" ? address.port : 0
      resolve({
        url: `http://127.0.0.1:${port}`,
        counts: () => counts,
        close: () => new Promise<void>((done) => server.close(() => done()))
      })
    })
  })
