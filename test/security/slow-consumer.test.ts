/**
 * A client that stops reading (a phone in a tunnel, a frozen tab) must not
 * make the server hold its notifications in memory: once the bytes queued
 * for it pass the bound, the server closes it with 4409. When it reads
 * again and resumes from the last cursor it saw, it gets every notification
 * exactly once.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client/HeraldClient"
import { Context, Effect, Layer } from "effect"
import { openRaw, type ServerFrame } from "../support/RawSocket.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const Total = 3_000
const Batch = 250
// A body near the 4,000-character maximum, so loopback's kernel buffers fill in a few MB.
const body = "x".repeat(3_900)

const cursorOf = (frame: ServerFrame): number | undefined => {
  const notification = frame["notification"]
  return typeof notification === "object" && notification !== null && "cursor" in notification && typeof notification.cursor === "number"
    ? notification.cursor
    : undefined
}

it.live("a socket that stops reading is closed with 4409 and, resumed, gets every notification once", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    // A long heartbeat: the paused client cannot answer pings, and only the buffer bound may close it.
    const server = yield* testServer({ databaseUrl: database.url, heartbeat: "2 minutes", limits: { socketBuffer: 256 * 1024 } })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const token = (yield* client.issueClientToken("slow-user")).token
    const slow = yield* openRaw(server.wsUrl)
    yield* slow.sendJson({ type: "auth", token })
    yield* slow.until("synced")
    slow.ws.pause()

    // Publish until the server says (in its metrics) it closed the slow socket, then let the client
    // read again: the server gives a closing peer 30 s to answer, however long publishing takes.
    const closedByServer = Effect.promise(() =>
      fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` } }).then((r) => r.text())
    ).pipe(Effect.map((text) => text.includes('limit="slow_consumer"')))
    let start = 0
    const publishBatch = Effect.suspend(() =>
      client.notifyBatch(Array.from({ length: Batch }, (_, i) => ({
        userId: "slow-user",
        kind: "status_update" as const,
        title: `n${start + i}`,
        body
      })))
    ).pipe(Effect.tap(() => Effect.sync(() => (start += Batch))))
    while (start < Total && !(yield* closedByServer)) yield* publishBatch
    slow.ws.resume()
    while (start < Total) yield* publishBatch
    const cursors: Array<number> = []
    let closeFrame: ServerFrame | undefined
    // Read what was queued before the close; the error frame comes last, then the close.
    while (closeFrame === undefined) {
      const next = yield* Effect.exit(slow.next("15 seconds"))
      if (next._tag === "Failure") break
      const cursor = cursorOf(next.value)
      if (cursor !== undefined) cursors.push(cursor)
      else if (next.value.type === "error") closeFrame = next.value
    }
    assert.strictEqual(yield* slow.closed("30 seconds"), 4409)
    if (closeFrame !== undefined) assert.deepInclude(closeFrame, { code: "slow_consumer" })
    assert.isBelow(cursors.length, Total, "the socket was closed before everything was written to it")

    // The socket was closed before everything was published, so the rest is only in the store.
    const resumed = yield* openRaw(server.wsUrl)
    yield* resumed.sendJson({ type: "auth", token, resume: cursors.at(-1) ?? 0 })
    const replay = yield* resumed.until("synced", "30 seconds")
    for (const frame of replay) {
      const cursor = cursorOf(frame)
      if (cursor !== undefined) cursors.push(cursor)
    }
    assert.strictEqual(cursors.length, Total)
    assert.strictEqual(new Set(cursors).size, Total)
    console.log(`slow consumer: closed after ${Total - replay.filter((f) => cursorOf(f) !== undefined).length} frames read, resumed with the rest`)
  }), { timeout: 120_000 })
