/**
 * `/metrics` serves Herald's metrics in the Prometheus text format to the
 * admin key: socket connects, live sockets, frames written, delivery and ack
 * latency histograms, deliveries by channel and outcome, emails sent.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { eventually } from "../support/eventually.ts"
import { openRaw } from "../support/RawSocket.ts"
import { makeScriptedChannels } from "../support/ScriptedChannels.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const scrape = (url: string, key: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } })
    return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() }
  })

it.live("/metrics has the delivery metrics in Prometheus text, for the admin key only", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const channels = makeScriptedChannels()
    const server = yield* testServer({ databaseUrl: database.url, channels: channels.layer, deliveryPoll: "100 millis" })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    yield* client.updatePreferences("m-user", { emailAddress: "m@example.com", kinds: { mention: { email: "immediate" } } })
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("m-user")).token })
    yield* socket.until("synced")
    const sent = yield* client.notify({ userId: "m-user", kind: "mention", title: "measured" })
    yield* socket.next()
    yield* socket.sendJson({ type: "ack", cursor: sent.cursor })

    assert.strictEqual((yield* scrape(server.url, apiKey)).status, 401, "the app key does not read metrics")
    const wanted = [
      "herald_socket_connects_total",
      "herald_sockets_live",
      "herald_in_app_delivered_total",
      "herald_in_app_delivery_latency_ms_bucket",
      "herald_in_app_ack_latency_ms_bucket",
      "herald_deliveries_total",
      "herald_delivery_latency_ms_bucket",
      "herald_emails_sent_total",
      "herald_notifications_stored_total"
    ]
    const metrics = yield* eventually(scrape(server.url, adminKey), (m) => wanted.every((name) => m.text.includes(name)), {
      times: 50,
      every: "100 millis"
    })
    assert.strictEqual(metrics.status, 200)
    assert.include(metrics.type, "text/plain")
    for (const name of wanted) assert.include(metrics.text, name)
    assert.match(metrics.text, /herald_deliveries_total\{[^}]*channel="email"[^}]*outcome="sent"[^}]*\} [1-9]/)
  }).pipe(Effect.scoped), { timeout: 60_000 })
