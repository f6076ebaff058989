/**
 * The address a request comes from, for the per-IP limits. Behind a reverse
 * proxy every request comes from the proxy, so with `HERALD_TRUST_PROXY` the
 * last `X-Forwarded-For` entry (the one the proxy itself appended) is taken;
 * earlier entries are whatever the client claimed and are never trusted.
 */
import type { IncomingMessage } from "node:http"

export const clientIp = (request: IncomingMessage, trustProxy: boolean): string => {
  const peer = request.socket.remoteAddress ?? "unknown"
  if (!trustProxy) return peer
  const forwarded = request.headers["x-forwarded-for"]
  const list = Array.isArray(forwarded) ? forwarded.join(",") : forwarded
  const last = list?.split(",").map((entry) => entry.trim()).filter((entry) => entry.length > 0).at(-1)
  return last ?? peer
}
