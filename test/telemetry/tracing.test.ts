/**
 * One notification, one trace: the span tree of a notification delivered to
 * a socket (written, then acked), by push and by email, continuing the trace
 * of the app that called `Notify`, exported through OpenTelemetry's SDK to
 * an in-memory exporter. Spans carry kind, channel, attempt, outcome and a
 * hashed user id, never the raw id or the content.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import { redacting } from "@herald/server/telemetry/RedactingSpanProcessor"
import { hashUserId } from "@herald/server/telemetry/UserHash"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Context, Effect, Layer } from "effect"
import { eventually } from "../support/eventually.ts"
import { openRaw } from "../support/RawSocket.ts"
import { makeScriptedChannels } from "../support/ScriptedChannels.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const User = "trace-user-alice@example.com"
const Title = "secret title 42"

it.live("a notification delivered on three channels is one trace: Notify → publish → persist and route → socket write and ack, push, email", () =>
  Effect.gen(function*() {
    const exporter = new InMemorySpanExporter()
    const telemetry = NodeSdk.layer(() => ({
      resource: { serviceName: "herald-test" },
      // Herald wraps every processor it installs the same way (see Telemetry.ts).
      spanProcessor: redacting(new SimpleSpanProcessor(exporter))
    }))
    const database = yield* testDatabase
    const channels = makeScriptedChannels()
    const server = yield* testServer({ databaseUrl: database.url, channels: channels.layer, telemetry, deliveryPoll: "100 millis" })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    yield* client.updatePreferences(User, {
      emailAddress: "alice@example.com",
      kinds: { mention: { inApp: true, push: true, email: "immediate" } }
    })
    yield* client.registerDevice(User, "alice-phone", "android")
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken(User)).token })
    yield* socket.until("synced")

    // The app's own span: Herald's spans must join its trace.
    const { sent, traceId } = yield* Effect.gen(function*() {
      const span = yield* Effect.currentSpan
      const sent = yield* client.notify({ userId: User, kind: "mention", title: Title })
      return { sent, traceId: span.traceId }
    }).pipe(Effect.withSpan("app.handle-comment"))
    const frame = yield* socket.next()
    assert.strictEqual(frame.type, "notification")
    yield* socket.sendJson({ type: "ack", cursor: sent.cursor })

    const names = ["Herald.notify", "Publisher.publish", "Publisher.route", "NotificationWriter.publish", "Delivery.socket", "Delivery.ack", "Delivery.push", "Delivery.email"]
    const spans = yield* eventually(
      Effect.sync(() => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId)),
      (found) => names.every((name) => found.some((span) => span.name === name)),
      { times: 100, every: "100 millis" }
    )
    const byName = (name: string): ReadableSpan => {
      const span = spans.find((s) => s.name === name)
      if (span === undefined) return assert.fail(`no ${name} span in the trace; got ${spans.map((s) => s.name).join(", ")}`)
      return span
    }
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
    for (const name of names) byName(name)

    // The tree: the publish is under the Notify call, persist and route under the publish,
    // and every channel's delivery continues from the publish.
    const publish = byName("Publisher.publish")
    assert.strictEqual(parentOf(byName("NotificationWriter.publish")), publish.spanContext().spanId)
    assert.strictEqual(parentOf(byName("Publisher.route")), publish.spanContext().spanId)
    for (const name of ["Delivery.socket", "Delivery.ack", "Delivery.push", "Delivery.email"]) {
      assert.strictEqual(parentOf(byName(name)), publish.spanContext().spanId, `${name} continues from the publish`)
    }
    const notifySpan = byName("Herald.notify")
    let ancestor: ReadableSpan | undefined = publish
    while (ancestor !== undefined && ancestor !== notifySpan) {
      const parentId = parentOf(ancestor)
      ancestor = spans.find((s) => s.spanContext().spanId === parentId)
    }
    assert.strictEqual(ancestor, notifySpan, "the publish is a descendant of the Notify call")

    // Attributes: channel, kind, attempt, outcome, and the user only as a hash.
    const attrs = (name: string) => byName(name).attributes
    assert.deepInclude(attrs("Delivery.socket"), { "herald.channel": "in_app", "herald.kind": "mention", "herald.outcome": "written" })
    assert.deepInclude(attrs("Delivery.ack"), { "herald.channel": "in_app", "herald.outcome": "acked" })
    assert.deepInclude(attrs("Delivery.push"), { "herald.channel": "push", "herald.kind": "mention", "herald.attempt": 1, "herald.outcome": "sent" })
    assert.deepInclude(attrs("Delivery.email"), { "herald.channel": "email", "herald.attempt": 1, "herald.outcome": "sent" })
    const hash = attrs("Delivery.push")["herald.user"]
    assert.strictEqual(hash, hashUserId(User))
    assert.strictEqual(attrs("Delivery.socket")["herald.user"], hash)
    assert.strictEqual(attrs("Publisher.publish")["herald.user"], hash)

    const everything = JSON.stringify(exporter.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })))
    assert.notInclude(everything, User, "the raw user id is in no span")
    assert.notInclude(everything, "alice@example.com", "nor the email address")
    assert.notInclude(everything, Title, "nor the content")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("an app that is not on Effect continues its trace by sending a W3C traceparent header with Notify", () =>
  Effect.gen(function*() {
    const exporter = new InMemorySpanExporter()
    const telemetry = NodeSdk.layer(() => ({ resource: { serviceName: "herald-test" }, spanProcessor: redacting(new SimpleSpanProcessor(exporter)) }))
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url, telemetry })
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    const callerSpan = "00f067aa0ba902b7"
    // The RPC wire format as any HTTP client would send it (JSON, one request).
    const response = yield* Effect.promise(() =>
      fetch(`${server.url}/rpc`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${apiKey}`,
          traceparent: `00-${traceId}-${callerSpan}-01`
        },
        body: JSON.stringify({
          _tag: "Request",
          id: "1",
          tag: "Notify",
          payload: { items: [{ userId: "plain-http-user", kind: "mention", title: "from curl" }] },
          headers: []
        })
      }).then(async (r) => ({ status: r.status, text: await r.text() }))
    )
    assert.strictEqual(response.status, 200, response.text)
    assert.include(response.text, "Success", response.text)
    const spans = yield* eventually(
      Effect.sync(() => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId)),
      (found) => ["Herald.notify", "Publisher.publish", "NotificationWriter.publish"].every((name) => found.some((s) => s.name === name)),
      { times: 50, every: "100 millis" }
    )
    // Up from the publish, Herald's outermost span hangs off the caller's span.
    let top = spans.find((s) => s.name === "Herald.notify")
    const path: Array<string> = []
    while (top !== undefined) {
      path.push(top.name)
      const parentId = top.parentSpanContext?.spanId
      const parent = spans.find((s) => s.spanContext().spanId === parentId)
      if (parent === undefined) break
      top = parent
    }
    assert.strictEqual(top?.parentSpanContext?.spanId, callerSpan, `Herald's outermost span (${path.join(" ← ")}) is a child of the caller's`)
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("a digest is a trace of its own, linked to the trace of every notification in it", () =>
  Effect.gen(function*() {
    const exporter = new InMemorySpanExporter()
    const telemetry = NodeSdk.layer(() => ({ resource: { serviceName: "herald-test" }, spanProcessor: redacting(new SimpleSpanProcessor(exporter)) }))
    const database = yield* testDatabase
    const channels = makeScriptedChannels()
    const server = yield* testServer({ databaseUrl: database.url, channels: channels.layer, telemetry, deliveryPoll: "100 millis" })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const admin = yield* Layer.build(HeraldAdminClient.layer({ url: server.url, adminKey })).pipe(Effect.map(Context.get(HeraldAdminClient)))
    yield* client.updatePreferences("digest-user", { emailAddress: "d@example.com", kinds: { mention: { email: "digest" } } })
    const traces: Array<string> = []
    for (const title of ["one", "two"]) {
      yield* Effect.gen(function*() {
        traces.push((yield* Effect.currentSpan).traceId)
        yield* client.notify({ userId: "digest-user", kind: "mention", title })
      }).pipe(Effect.withSpan("app.publish"))
    }
    assert.strictEqual(yield* admin.sendDigestNow("digest-user"), 2)
    const digest = yield* eventually(
      Effect.sync(() => exporter.getFinishedSpans().find((span) => span.name === "Delivery.digest")),
      (span) => span !== undefined,
      { times: 100, every: "100 millis" }
    )
    if (digest === undefined) return assert.fail("no Delivery.digest span")
    assert.deepInclude(digest.attributes, { "herald.channel": "digest", "herald.items": 2, "herald.outcome": "sent" })
    assert.sameMembers(digest.links.map((link) => link.context.traceId), traces)
  }).pipe(Effect.scoped), { timeout: 60_000 })
