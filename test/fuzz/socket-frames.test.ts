/**
 * Fuzzing the socket protocol (docs/protocol.md) with fast-check: each run
 * opens a real socket on a real server and sends a random session of frames,
 * arbitrary text, arbitrary JSON, almost valid frames (the right `type` with
 * wrong field types, huge or negative or NaN cursors), unknown types, binary
 * and oversized frames, auth frames with garbage tokens or a valid one, before
 * and after authentication, twice. Then:
 *
 * - every server message is a documented frame: it decodes with the domain's
 *   `Socket.ServerFrameJson` (so an error code outside `Socket.SocketErrorCode`
 *   fails), and the close code is one of `Socket.CloseCodes` or a standard one;
 * - the answers are the documented ones, predicted from what the domain's own
 *   `Socket.ClientFrameJson` makes of each frame: one `malformed_frame` per frame
 *   it refuses, one `pong` per ping, `already_authenticated` for every auth after
 *   the first, `not_authenticated` for acks before it, 4401 for a garbage token,
 *   1009 for a frame over `Socket.MaxClientFrameBytes` (and none at exactly it);
 * - before `ready` the server sends only error frames and pongs, and only a
 *   valid token gets `ready`, for its own user, with exactly the notifications
 *   after its `resume` cursor;
 * - the server is still up afterwards: `/healthz` answers and a fresh socket
 *   with a valid token gets `ready` and `synced`.
 */
import { assert, layer } from "@effect/vitest"
import { Socket } from "@herald/domain"
import { Effect, Exit, Schema } from "effect"
import fc from "fast-check"
import { Herald } from "../support/Herald.ts"
import { checkProperty } from "../support/Property.ts"
import { openText, type ReceivedMessage } from "../support/TextSocket.ts"
import { anyString, jwtLike, rawValueText, smallJson } from "./Arbitraries.ts"

const FuzzUser = "fz-frames"
const CheckUser = "fz-frames-check"
/** Notifications the fuzzed user has before the runs, so resumes have something to replay. */
const Stored = 3
const Max = Socket.MaxClientFrameBytes

/** Close codes a client may see: the protocol's own and the standard ones it names. */
const allowedCloseCodes = new Set<number>([...Object.values(Socket.CloseCodes), 1000, 1001, 1006, 1009, 1011])

type Action =
  | { readonly _tag: "text"; readonly text: string }
  | { readonly _tag: "binary"; readonly bytes: Uint8Array }

const text = (value: string): Action => ({ _tag: "text", text: value })

/** A `{"type":…,…}` frame exactly `size` bytes long: a ping below the limit, refused above it. */
const frameOfSize = (size: number): Action => {
  const shell = JSON.stringify({ type: "ping", pad: "" })
  return text(JSON.stringify({ type: "ping", pad: "x".repeat(Math.max(0, size - shell.length)) }))
}

const sessionOf = (token: string): fc.Arbitrary<ReadonlyArray<Action>> => {
  const types = fc.constantFrom("auth", "ack", "ping", "pong")
  const fieldNames = fc.oneof(fc.constantFrom("type", "token", "resume", "cursor"), fc.string({ maxLength: 8 }))
  const action: fc.Arbitrary<Action> = fc.oneof(
    { arbitrary: anyString.map(text), weight: 2 },
    { arbitrary: smallJson.map((value) => text(JSON.stringify(value))), weight: 2 },
    // The right type with one field of the wrong type or an absurd value, as raw JSON text.
    {
      arbitrary: fc.tuple(types, fieldNames, rawValueText).map(([type, field, value]) =>
        text(`{"type":${JSON.stringify(type)},${JSON.stringify(field)}:${value}}`)
      ),
      weight: 4
    },
    { arbitrary: fc.tuple(types, rawValueText).map(([type, value]) => text(`{"type":${JSON.stringify(type)},"token":${JSON.stringify(token)},"resume":${value},"cursor":${value}}`)), weight: 1 },
    { arbitrary: fc.record({ type: anyString, cursor: fc.nat() }).map((frame) => text(JSON.stringify(frame))), weight: 1 },
    { arbitrary: fc.oneof(anyString, jwtLike, fc.string({ minLength: 4000, maxLength: 4200 })).map((garbage) => text(JSON.stringify({ type: "auth", token: garbage }))), weight: 2 },
    { arbitrary: fc.option(fc.nat({ max: Stored + 2 }), { nil: undefined }).map((resume) => text(JSON.stringify(resume === undefined ? { type: "auth", token } : { type: "auth", token, resume }))), weight: 2 },
    { arbitrary: fc.oneof(fc.constant({ type: "ping" }), fc.constant({ type: "pong" }), fc.nat().map((cursor) => ({ type: "ack", cursor }))).map((frame) => text(JSON.stringify(frame))), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 48 }).map((bytes): Action => ({ _tag: "binary", bytes })), weight: 1 },
    { arbitrary: fc.constantFrom(Max - 1, Max, Max + 1, 2 * Max).map(frameOfSize), weight: 1 },
    { arbitrary: fc.constant<Action>({ _tag: "binary", bytes: new Uint8Array(Max + 1) }), weight: 1 }
  )
  return fc.array(action, { minLength: 1, maxLength: 8 })
}

/** What the server makes of a frame, by the domain's own client-frame schema and size limit. */
type Kind =
  | { readonly _tag: "oversized" }
  | { readonly _tag: "malformed" }
  | { readonly _tag: "ping" }
  | { readonly _tag: "pong" }
  | { readonly _tag: "ack" }
  | { readonly _tag: "auth"; readonly valid: boolean; readonly resume: number | undefined }

const decodeClientFrame = Schema.decodeUnknownExit(Socket.ClientFrameJson)
const decodeServerFrame = Schema.decodeUnknownExit(Socket.ServerFrameJson)

const kindOf = (action: Action, token: string): Kind => {
  // What goes over the wire: UTF-8, with lone surrogates replaced, as ws encodes it.
  const bytes = action._tag === "binary" ? action.bytes : Buffer.from(action.text)
  if (bytes.length > Max) return { _tag: "oversized" }
  if (action._tag === "binary") return { _tag: "malformed" }
  const decoded = decodeClientFrame(Buffer.from(action.text).toString())
  if (Exit.isFailure(decoded)) return { _tag: "malformed" }
  const frame = decoded.value
  switch (frame.type) {
    case "auth":
      return { _tag: "auth", valid: frame.token === token, resume: frame.resume }
    case "ack":
      return { _tag: "ack" }
    case "ping":
      return { _tag: "ping" }
    case "pong":
      return { _tag: "pong" }
  }
}

const typeOf = (message: ReceivedMessage) => {
  const decoded = decodeServerFrame(message.text)
  return Exit.isSuccess(decoded) ? decoded.value.type : "undecodable"
}
const countPongs = (received: ReadonlyArray<ReceivedMessage>) => received.filter((m) => typeOf(m) === "pong").length

layer(Herald.layer({ limits: { connectsPerIp: 0 } }), { excludeTestServices: true, timeout: "60 seconds" })("fuzzed socket frames", (it) => {
  it.effect("any session of random and malformed frames gets only documented frames and close codes, and the server keeps serving", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      for (let i = 1; i <= Stored; i++) yield* herald.client.notify({ userId: FuzzUser, kind: "mention", title: `stored ${i}` })
      // A long-lived token: runs reuse it, and the per-user socket limit is never reached since each run closes its socket.
      const token = yield* herald.token(FuzzUser)
      const checkToken = yield* herald.token(CheckUser)

      const run = (actions: ReadonlyArray<Action>) =>
        Effect.gen(function*() {
          const kinds = actions.map((action) => kindOf(action, token))
          const oversizedAt = kinds.findIndex((kind) => kind._tag === "oversized")
          // The server reads nothing after a frame over the limit: it closes with 1009.
          const processed = oversizedAt === -1 ? kinds : kinds.slice(0, oversizedAt)
          const oversized = oversizedAt !== -1
          const firstAuth = processed.find((kind): kind is Extract<Kind, { _tag: "auth" }> => kind._tag === "auth")
          const badTokenFirst = firstAuth !== undefined && !firstAuth.valid
          const validFirst = firstAuth !== undefined && firstAuth.valid

          const socket = yield* openText(herald.server.wsUrl)
          for (const action of actions) {
            if (action._tag === "text") yield* socket.sendText(action.text)
            else yield* socket.sendBinary(action.bytes)
          }
          // A sentinel ping: its pong comes after the answer to every frame before it.
          yield* socket.sendText(JSON.stringify({ type: "ping" }))
          const pings = processed.filter((kind) => kind._tag === "ping").length + (oversized ? 0 : 1)
          yield* socket.waitFor((received) => countPongs(received) >= pings)
          if (validFirst) yield* socket.waitFor((received) => received.some((m) => typeOf(m) === "synced"))
          if (badTokenFirst || oversized) yield* socket.closed()
          const closedByServer = socket.closeCode() !== undefined
          yield* socket.close(1000)
          const code = yield* socket.closed()

          const received = socket.received()
          const frames: Array<Socket.ServerFrame> = []
          for (const message of received) {
            assert.isFalse(message.binary, "the server sends text frames only")
            const decoded = decodeServerFrame(message.text)
            assert.isTrue(Exit.isSuccess(decoded), `a documented frame: ${message.text}`)
            if (Exit.isSuccess(decoded)) frames.push(decoded.value)
          }
          assert.isTrue(allowedCloseCodes.has(code), `close code ${code} is documented`)

          const readyAt = frames.findIndex((frame) => frame.type === "ready")
          for (const frame of readyAt === -1 ? frames : frames.slice(0, readyAt)) {
            assert.include(["error", "pong"], frame.type, "before ready only error frames and pongs")
          }
          const ready = frames.filter((frame) => frame.type === "ready")
          assert.isAtMost(ready.length, 1)
          if (!validFirst) {
            assert.strictEqual(readyAt, -1, "only a valid token is authenticated")
            assert.isFalse(frames.some((frame) => frame.type === "synced" || frame.type === "notification"))
          }
          for (const frame of ready) assert.strictEqual(frame.userId, FuzzUser)
          const notifications = frames.flatMap((frame) => frame.type === "notification" ? [frame.notification] : [])
          for (const notification of notifications) assert.strictEqual(notification.userId, FuzzUser)
          if (firstAuth?.valid === true && !oversized) {
            assert.strictEqual(ready.length, 1, "a valid token gets ready")
            const resume = firstAuth.resume
            const expected = resume === undefined ? [] : Array.from({ length: Math.max(0, Stored - resume) }, (_, i) => resume + 1 + i)
            assert.deepStrictEqual(notifications.map((n) => n.cursor), expected, "exactly the notifications after resume")
          }

          const errors = frames.flatMap((frame) => frame.type === "error" ? [frame.code] : [])
          const count = (code: Socket.SocketErrorCode) => errors.filter((c) => c === code).length
          if (oversized) {
            assert.include(badTokenFirst ? [1009, 4401] : [1009], code, "a frame over the limit closes with 1009")
          } else if (badTokenFirst) {
            assert.strictEqual(code, 4401, "a garbage token closes with 4401")
            assert.strictEqual(count("invalid_token"), 1)
          } else {
            assert.isFalse(closedByServer, `the server closed a socket it had no reason to close (code ${code})`)
            assert.strictEqual(code, 1000)
          }
          if (!badTokenFirst) {
            const allowed: ReadonlyArray<Socket.SocketErrorCode> = ["malformed_frame", "not_authenticated", "already_authenticated"]
            for (const error of errors) assert.include(allowed, error)
            assert.strictEqual(count("malformed_frame"), processed.filter((kind) => kind._tag === "malformed").length, "one malformed_frame per refused frame")
            assert.strictEqual(countPongs(received), pings, "one pong per ping")
            const auths = processed.filter((kind) => kind._tag === "auth").length
            assert.strictEqual(count("already_authenticated"), Math.max(0, auths - 1), "already_authenticated for every auth after the first")
            const firstAuthAt = processed.findIndex((kind) => kind._tag === "auth")
            const acksBefore = (firstAuthAt === -1 ? processed : processed.slice(0, firstAuthAt)).filter((kind) => kind._tag === "ack").length
            const acks = processed.filter((kind) => kind._tag === "ack").length
            // Acks after a valid auth frame but before its token is verified are refused too: a race, hence the range.
            assert.isAtLeast(count("not_authenticated"), acksBefore, "acks before auth are refused")
            assert.isAtMost(count("not_authenticated"), acks)
          }

          // The server survived: it answers its health probe and serves a fresh valid socket.
          const health = yield* Effect.promise(() => fetch(`${herald.server.url}/healthz`).then((r) => r.status))
          assert.strictEqual(health, 200)
          const fresh = yield* openText(herald.server.wsUrl)
          yield* fresh.sendText(JSON.stringify({ type: "auth", token: checkToken }))
          yield* fresh.waitFor((messages) => messages.some((m) => typeOf(m) === "synced"))
          assert.deepStrictEqual(fresh.received().map(typeOf), ["ready", "synced"])
        })

      const { numRuns } = yield* checkProperty(sessionOf(token), run, { numRuns: 200 })
      assert.isAtLeast(numRuns, 1)
    }), 240_000)
})
