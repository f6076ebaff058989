/**
 * The address the per-IP limits count: the peer, or behind a trusted proxy
 * the entry the proxy appended. A client's own `X-Forwarded-For` claims are
 * never taken, or it could pick a fresh address per connection.
 */
import { assert, it } from "@effect/vitest"
import { clientIp } from "@herald/server/gateway/ClientIp"
import { IncomingMessage } from "node:http"
import { Socket } from "node:net"

const request = (peer: string, forwardedFor?: string | ReadonlyArray<string>) => {
  const socket = new Socket()
  Object.defineProperty(socket, "remoteAddress", { value: peer })
  const message = new IncomingMessage(socket)
  if (forwardedFor !== undefined) message.headers["x-forwarded-for"] = typeof forwardedFor === "string" ? forwardedFor : [...forwardedFor]
  return message
}

it("without a trusted proxy the peer address counts, whatever the headers claim", () => {
  assert.strictEqual(clientIp(request("10.0.0.9", "1.2.3.4"), false), "10.0.0.9")
})

it("behind a trusted proxy the last X-Forwarded-For entry counts, not the client's own claims", () => {
  assert.strictEqual(clientIp(request("10.0.0.1", "6.6.6.6, 203.0.113.7"), true), "203.0.113.7")
  assert.strictEqual(clientIp(request("10.0.0.1", ["6.6.6.6", "198.51.100.2"]), true), "198.51.100.2")
  assert.strictEqual(clientIp(request("10.0.0.1"), true), "10.0.0.1")
  assert.strictEqual(clientIp(request("10.0.0.1", " , "), true), "10.0.0.1")
})
