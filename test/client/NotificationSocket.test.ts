/**
 * NotificationSocket against a tiny fake Herald server (the `ws` package on
 * 127.0.0.1, port 0) that speaks just enough of `docs/protocol.md` for each
 * behaviour. Every wait is on an event (a frame, a connection, a state), never
 * on wall time.
 */
import { assert, describe, it } from "@effect/vitest"
import { NotificationSocket, type SocketState } from "@herald/client"
import { Cursor, Socket } from "@herald/domain"
import { Effect, Exit, Option, Queue, Schema, Stream } from "effect"
import { type WebSocket, WebSocketServer } from "ws"

interface FakeConnection {
  readonly send: (frame: object) => Effect.Effect<void>
  /** Client frames in arrival order, decoded with the domain schema (a failure means the client broke the protocol). */
  readonly frames: Queue.Queue<Exit.Exit<Socket.ClientFrame, Schema.SchemaError>>
  readonly closeWith: (code: number) => Effect.Effect<void>
  readonly drop: Effect.Effect<void>
  /** The close code the client's close carried, once it arrives. */
  readonly closed: Effect.Effect<number>
}

const decodeClientFrame = Schema.decodeUnknownExit(Socket.ClientFrameJson)

const fakeServer = Effect.gen(function*() {
  const connections = yield* Queue.unbounded<FakeConnection>()
  const wss = yield* Effect.acquireRelease(
    Effect.callback<WebSocketServer>((resume) => {
      const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
      server.once("listening", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        for (const client of server.clients) client.terminate()
        server.close(() => resume(Effect.void))
      })
  )
  wss.on("connection", (ws: WebSocket) => {
    // A queue per connection, made synchronously so no frame can arrive before it exists.
    const frames = Effect.runSync(Queue.unbounded<Exit.Exit<Socket.ClientFrame, Schema.SchemaError>>())
    const closes = Effect.runSync(Queue.unbounded<number>())
    ws.on("message", (data) => {
      Queue.offerUnsafe(frames, decodeClientFrame(data.toString()))
    })
    ws.on("close", (code) => {
      Queue.offerUnsafe(closes, code)
    })
    Queue.offerUnsafe(connections, {
      send: (frame) => Effect.sync(() => ws.send(JSON.stringify(frame))),
      frames,
      closeWith: (code) => Effect.sync(() => ws.close(code)),
      drop: Effect.sync(() => ws.terminate()),
      closed: Queue.take(closes)
    })
  })
  const address = wss.address()
  const port = address === null || typeof address === "string" ? 0 : address.port
  return { url: `ws://127.0.0.1:${port}/ws`, nextConnection: Queue.take(connections) }
})

const nextFrame = (connection: FakeConnection) => Effect.flatMap(Queue.take(connection.frames), (exit) => exit)

/** Skips pongs and acks until a frame of the wanted type arrives. */
const nextFrameOfType = <T extends Socket.ClientFrame["type"]>(connection: FakeConnection, type: T) => {
  const isWanted = (frame: Socket.ClientFrame): frame is Extract<Socket.ClientFrame, { readonly type: T }> =>
    frame.type === type
  return Effect.gen(function*() {
    while (true) {
      const frame = yield* nextFrame(connection)
      if (isWanted(frame)) return frame
    }
  })
}

const notification = (cursor: number, idSuffix: number = cursor) => ({
  type: "notification",
  notification: {
    id: `019a6c2e-5b7e-7c1a-9f1e-${idSuffix.toString(16).padStart(12, "0")}`,
    userId: "alice",
    cursor,
    kind: "mention",
    title: `notification ${cursor}`,
    body: null,
    link: null,
    actor: "bob",
    idempotencyKey: null,
    createdAt: "2026-11-24T08:00:00.000Z",
    readAt: null
  }
})

const ready = (heartbeatMs = 15_000) => ({ type: "ready", userId: "alice", cursor: 0, heartbeatMs })

const fastBackoff = { initialMs: 5, maxMs: 20 }

describe("NotificationSocket", () => {
  it.live("sends auth first with token and resume, emits in cursor order and drops duplicates", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      const socket = yield* NotificationSocket.make({ url: server.url, token: "t1", resumeFrom: Cursor.make(3) })
      const connection = yield* server.nextConnection

      const auth = yield* nextFrame(connection)
      assert.deepStrictEqual(auth.type === "auth" ? { token: auth.token, resume: auth.resume } : auth, {
        token: "t1",
        resume: Cursor.make(3)
      })

      yield* connection.send(ready())
      yield* connection.send(notification(4))
      yield* connection.send(notification(5))
      yield* connection.send(notification(5)) // the same id re-sent
      yield* connection.send(notification(3, 99)) // a new id, but a cursor already seen
      yield* connection.send(notification(6, 4)) // a new cursor, but an id already emitted
      yield* connection.send(notification(7))
      yield* connection.send({ type: "synced", cursor: 7 })

      const received = yield* socket.notifications.pipe(Stream.take(3), Stream.runCollect)
      assert.deepStrictEqual(received.map((n) => n.cursor), [4, 5, 7])
      assert.deepStrictEqual(yield* socket.lastCursor, Option.some(Cursor.make(7)))
      assert.strictEqual(yield* socket.state, "open")
    }))

  it.live("a replayed frame is shown unless its id was shown, and moves neither the resume cursor nor the acks", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      const socket = yield* NotificationSocket.make({ url: server.url, token: "t1", backoff: fastBackoff })
      const connection = yield* server.nextConnection
      yield* nextFrame(connection)
      yield* connection.send(ready())
      yield* connection.send({ type: "synced", cursor: 0 })
      yield* connection.send(notification(3))
      yield* connection.send({ ...notification(3), replayed: true }) // shown already: dropped
      yield* connection.send({ ...notification(1, 77), replayed: true }) // below the cursor, never shown: emitted
      yield* connection.send({ ...notification(9, 78), replayed: true }) // above the cursor: emitted, cursor unmoved
      yield* connection.send(notification(4))
      const received = yield* socket.notifications.pipe(Stream.take(4), Stream.runCollect)
      assert.deepStrictEqual(received.map((n) => n.cursor), [3, 1, 9, 4])
      assert.deepStrictEqual(yield* socket.lastCursor, Option.some(Cursor.make(4)))
      // Acks are coalesced, so one may come for 3 first; none ever names the replayed cursors.
      const acks: Array<number> = []
      while (acks.at(-1) !== 4) {
        acks.push((yield* nextFrameOfType(connection, "ack")).cursor)
        assert.isTrue(acks.every((cursor) => cursor === 3 || cursor === 4), `acks follow the live frames only: ${acks}`)
      }
      // After a reconnect it resumes from 4, not from the replayed 9.
      yield* connection.drop
      const again = yield* server.nextConnection
      const auth = yield* nextFrame(again)
      assert.strictEqual(auth.type === "auth" ? auth.resume : undefined, Cursor.make(4))
    }))

  it.live("answers ping with pong and sends a cumulative ack after a burst", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      const socket = yield* NotificationSocket.make({ url: server.url, token: "t1" })
      const connection = yield* server.nextConnection
      const auth = yield* nextFrame(connection)
      assert.isTrue(auth.type === "auth" && !Object.hasOwn(auth, "resume"), "no resume without a known cursor")

      yield* connection.send(ready())
      yield* connection.send({ type: "ping" })
      assert.strictEqual((yield* nextFrame(connection)).type, "pong")

      yield* connection.send({ type: "synced", cursor: 0 })
      for (const cursor of [1, 2, 3]) yield* connection.send(notification(cursor))
      yield* socket.notifications.pipe(Stream.take(3), Stream.runDrain)

      // Acks are cumulative and coalesced: however many arrive, they rise and end at the last cursor.
      const acks: Array<number> = []
      while (acks.at(-1) !== 3) {
        const ack = yield* nextFrameOfType(connection, "ack")
        acks.push(ack.cursor)
      }
      assert.deepStrictEqual(acks, [...acks].sort((a, b) => a - b))
      assert.isAtMost(acks.length, 3)
    }))

  it.live("after the server drops the connection it reconnects and resumes from the last cursor", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      const states: Array<SocketState> = []
      const socket = yield* NotificationSocket.make({
        url: server.url,
        token: "t1",
        backoff: fastBackoff,
        onState: (state) => states.push(state)
      })
      const first = yield* server.nextConnection
      yield* nextFrameOfType(first, "auth")
      yield* first.send(ready())
      yield* first.send({ type: "synced", cursor: 5 })
      yield* first.send(notification(6))
      const received = yield* Queue.unbounded<number>()
      yield* socket.notifications.pipe(
        Stream.runForEach((n) => Queue.offer(received, n.cursor)),
        Effect.forkScoped
      )
      assert.strictEqual(yield* Queue.take(received), 6)

      yield* first.drop
      const second = yield* server.nextConnection
      const auth = yield* nextFrameOfType(second, "auth")
      assert.strictEqual(auth.resume, Cursor.make(6))

      yield* second.send(ready())
      yield* second.send(notification(6)) // replayed again by an operator: dropped
      yield* second.send(notification(7))
      yield* second.send({ type: "synced", cursor: 7 })
      assert.strictEqual(yield* Queue.take(received), 7)

      // 1000 from the server ends the stream for good.
      yield* second.closeWith(1000)
      yield* socket.stateChanges.pipe(Stream.runDrain)
      assert.deepStrictEqual(states, ["connecting", "open", "reconnecting", "open", "closed"])
      assert.strictEqual(yield* Queue.size(received), 0)
    }))

  it.live("reconnects when the server is silent for two heartbeats", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      yield* NotificationSocket.make({ url: server.url, token: "t1", backoff: fastBackoff })
      const first = yield* server.nextConnection
      yield* nextFrameOfType(first, "auth")
      yield* first.send(ready(20))
      yield* first.send({ type: "synced", cursor: 9 })
      const second = yield* server.nextConnection
      const auth = yield* nextFrameOfType(second, "auth")
      assert.strictEqual(auth.resume, Cursor.make(9))
    }))

  it.live("4401 with a string token fails the stream with SocketAuthError", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      const socket = yield* NotificationSocket.make({ url: server.url, token: "bad", backoff: fastBackoff })
      const connection = yield* server.nextConnection
      yield* nextFrameOfType(connection, "auth")
      yield* connection.closeWith(4401)

      const error = yield* socket.notifications.pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(error._tag, "SocketAuthError")
      assert.strictEqual(error.reason, "invalid_token")
      assert.strictEqual(error.closeCode, 4401)
      assert.strictEqual(yield* socket.state, "closed")
    }))

  it.live("4402 with an Effect token fetches a fresh token and reconnects", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      let issued = 0
      const token = Effect.sync(() => `token-${++issued}`)
      yield* NotificationSocket.make({ url: server.url, token, backoff: fastBackoff })
      const first = yield* server.nextConnection
      const firstAuth = yield* nextFrameOfType(first, "auth")
      assert.strictEqual(firstAuth.token, "token-1")
      yield* first.closeWith(4402)

      const second = yield* server.nextConnection
      const secondAuth = yield* nextFrameOfType(second, "auth")
      assert.strictEqual(secondAuth.token, "token-2")
    }))

  it.live("close sends 1000 and ends notifications", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      const socket = yield* NotificationSocket.make({ url: server.url, token: "t1" })
      const connection = yield* server.nextConnection
      yield* nextFrameOfType(connection, "auth")
      yield* connection.send(ready())
      yield* connection.send(notification(1))
      const received = yield* socket.notifications.pipe(Stream.take(1), Stream.runCollect)
      assert.strictEqual(received[0]?.cursor, 1)

      yield* socket.close
      assert.strictEqual(yield* connection.closed, 1000)
      assert.deepStrictEqual(yield* socket.notifications.pipe(Stream.runCollect), [])
      assert.strictEqual(yield* socket.state, "closed")
    }))

  it.live("a fetched token the protocol cannot carry is treated like 4401 and fetched again", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer
      const tokens = ["", "good"]
      const token = Effect.sync(() => tokens.shift() ?? "good")
      yield* NotificationSocket.make({ url: server.url, token, backoff: fastBackoff })
      yield* server.nextConnection // dialled, but no auth frame could be sent on it
      const second = yield* server.nextConnection
      const auth = yield* nextFrameOfType(second, "auth")
      assert.strictEqual(auth.token, "good")
    }))

  it.effect("refuses options that are not a ws:// URL", () =>
    Effect.gen(function*() {
      const error = yield* NotificationSocket.make({ url: "http://example.com/ws", token: "t1" }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "SocketOptionsError")
      assert.include(error.message, "ws://")
    }))
})
