/**
 * No data leak under fuzzing: two legitimate users, A and B, keep a socket
 * open on a real server while fast-check publishes random batches (valid ones
 * through the typed `HeraldClient`, to A, B, a third user C and others, with
 * idempotency keys drawn from a small pool so some are retries; broken ones as
 * raw HTTP) and opens fuzzed sockets that send garbage, forged tokens for A
 * (another secret, `alg: none`, C's token with A's payload), malformed frames
 * and acks, or C's valid token with a resume from 0.
 *
 * - every run: a fuzzed socket never sees a notification of A or B, and every
 *   frame it gets is a documented one;
 * - in the end, A's socket saw exactly A's stored notifications and B's exactly
 *   B's, each once, in cursor order: every valid publish delivered exactly once,
 *   retries not again, refused ones never.
 */
import { assert, layer } from "@effect/vitest"
import { type NotifyInput } from "@herald/client"
import { AppRpcs, Socket } from "@herald/domain"
import { Effect, Exit, Schema } from "effect"
import { Rpc } from "effect/rpc"
import fc from "fast-check"
import { SignJWT, UnsecuredJWT } from "jose"
import { Herald } from "../support/Herald.ts"
import { checkProperty } from "../support/Property.ts"
import { apiKey } from "../support/TestServer.ts"
import { openText, type TextSocket } from "../support/TextSocket.ts"
import { anyString, rawValueText } from "./Arbitraries.ts"

const UserA = "fz-leak-a"
const UserB = "fz-leak-b"
const UserC = "fz-leak-c"
const Others = ["fz-leak-d", "fz-leak-e"] as const

const decodeServerFrame = Schema.decodeUnknownExit(Socket.ServerFrameJson)
// A raw value JSON cannot hold (NaN) makes the body no JSON at all: effect/rpc answers it with a Defect message.
const decodeReply = Schema.decodeUnknownExit(Schema.fromJsonString(Schema.Array(Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Exit"), exit: Schema.Unknown }),
  Schema.Struct({ _tag: Schema.Literal("Defect"), defect: Schema.Unknown })
]))))
const decodeNotifyExit = Schema.decodeUnknownExit(Schema.toCodecJson(Rpc.exitSchema(AppRpcs.Notify)))

/** The decoded frames a socket has received so far; an undecodable one fails the test. */
const framesOf = (socket: TextSocket): ReadonlyArray<Socket.ServerFrame> =>
  socket.received().flatMap((message) => {
    assert.isFalse(message.binary)
    const decoded = decodeServerFrame(message.text)
    assert.isTrue(Exit.isSuccess(decoded), `a documented frame: ${message.text}`)
    return Exit.isSuccess(decoded) ? [decoded.value] : []
  })

const notificationsOf = (socket: TextSocket) =>
  framesOf(socket).flatMap((frame) => frame.type === "notification" ? [frame.notification] : [])

type Recipient = "A" | "B" | "C" | "other"
const userOf = (recipient: Recipient, other: number) =>
  recipient === "A" ? UserA : recipient === "B" ? UserB : recipient === "C" ? UserC : Others[other % Others.length] ?? UserC

const item = fc.record({
  recipient: fc.constantFrom<Recipient>("A", "B", "C", "other"),
  other: fc.nat(),
  kind: fc.constantFrom("mention" as const, "assignment" as const, "status_update" as const),
  title: fc.string({ minLength: 1, maxLength: 40 }),
  key: fc.option(fc.constantFrom("k1", "k2", "k3"), { nil: undefined })
})

type Publish =
  | { readonly _tag: "valid"; readonly items: ReadonlyArray<typeof item extends fc.Arbitrary<infer A> ? A : never> }
  | { readonly _tag: "broken"; readonly recipient: Recipient; readonly field: string; readonly value: string }

const publish: fc.Arbitrary<Publish> = fc.oneof(
  { arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }).map((items): Publish => ({ _tag: "valid", items })), weight: 3 },
  {
    arbitrary: fc.record({ recipient: fc.constantFrom<Recipient>("A", "B"), field: fc.constantFrom("kind", "title", "userId", "link", "items"), value: rawValueText })
      .map((broken): Publish => ({ _tag: "broken", ...broken })),
    weight: 1
  }
)

type Intruder =
  | { readonly _tag: "garbage"; readonly token: string }
  | { readonly _tag: "otherSecret" }
  | { readonly _tag: "algNone" }
  | { readonly _tag: "swappedPayload" }
  | { readonly _tag: "malformed"; readonly frame: string }
  | { readonly _tag: "asC"; readonly resume: boolean }

const intruder: fc.Arbitrary<Intruder> = fc.oneof(
  anyString.filter((token) => token.length > 0).map((token): Intruder => ({ _tag: "garbage", token })),
  fc.constant<Intruder>({ _tag: "otherSecret" }),
  fc.constant<Intruder>({ _tag: "algNone" }),
  fc.constant<Intruder>({ _tag: "swappedPayload" }),
  fc.oneof(anyString, rawValueText.map((value) => `{"type":"ack","cursor":${value}}`)).map((frame): Intruder => ({ _tag: "malformed", frame })),
  fc.boolean().map((resume): Intruder => ({ _tag: "asC", resume }))
)

const runOf = fc.record({ publishes: fc.array(publish, { minLength: 1, maxLength: 4 }), intruders: fc.array(intruder, { minLength: 0, maxLength: 2 }) })

const claimsFor = (subject: string) => ({ sub: subject, aud: "herald:socket", iss: "herald", iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 })

layer(Herald.layer({ limits: { connectsPerIp: 0 }, heartbeat: "2 minutes" }), { excludeTestServices: true, timeout: "60 seconds" })("no data leak under fuzzing", (it) => {
  it.effect("A's socket gets exactly A's notifications and B's exactly B's, once each, and fuzzed sockets get neither", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const cToken = yield* herald.token(UserC)
      const connect = (userId: string) =>
        Effect.gen(function*() {
          const socket = yield* openText(herald.server.wsUrl)
          yield* socket.sendText(JSON.stringify({ type: "auth", token: yield* herald.token(userId) }))
          yield* socket.waitFor((messages) => messages.some((m) => m.text.includes("\"synced\"")))
          return socket
        })
      const socketA = yield* connect(UserA)
      const socketB = yield* connect(UserB)
      const expected = { [UserA]: new Set<string>(), [UserB]: new Set<string>() }

      const forged = (who: Intruder): Effect.Effect<string | undefined> => {
        switch (who._tag) {
          case "garbage":
            return Effect.succeed(who.token)
          case "otherSecret":
            return Effect.promise(() => new SignJWT(claimsFor(UserA)).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("not-the-secret")))
          case "algNone":
            return Effect.succeed(new UnsecuredJWT(claimsFor(UserA)).encode())
          case "swappedPayload": {
            const [header = "", , signature = ""] = cToken.split(".")
            return Effect.succeed(`${header}.${Buffer.from(JSON.stringify(claimsFor(UserA))).toString("base64url")}.${signature}`)
          }
          case "asC":
            return Effect.succeed(cToken)
          case "malformed":
            return Effect.succeed(undefined)
        }
      }

      const run = ({ intruders, publishes }: { readonly publishes: ReadonlyArray<Publish>; readonly intruders: ReadonlyArray<Intruder> }) =>
        Effect.gen(function*() {
          const sockets: Array<TextSocket> = []
          for (const who of intruders) {
            const socket = yield* openText(herald.server.wsUrl)
            sockets.push(socket)
            const token = yield* forged(who)
            if (who._tag === "malformed") yield* socket.sendText(who.frame)
            else if (token !== undefined) {
              yield* socket.sendText(JSON.stringify(who._tag === "asC" && who.resume ? { type: "auth", token, resume: 0 } : { type: "auth", token }))
            }
            // Acks naming A's cursors must not be taken from an intruder either.
            yield* socket.sendText(JSON.stringify({ type: "ack", cursor: expected[UserA].size }))
          }
          for (const p of publishes) {
            if (p._tag === "valid") {
              const items: ReadonlyArray<NotifyInput> = p.items.map((i, n) => ({
                userId: userOf(i.recipient, i.other),
                kind: i.kind,
                title: i.title,
                ...(i.key === undefined ? {} : { idempotencyKey: `${i.key}-${n}` })
              }))
              const results = yield* Effect.exit(herald.client.notifyBatch(items))
              // A refused batch (a title the schema refuses) stores nothing, so nothing is expected.
              if (Exit.isSuccess(results)) {
                for (const result of results.value) {
                  const watched = result.userId === UserA ? expected[UserA] : result.userId === UserB ? expected[UserB] : undefined
                  if (watched !== undefined && !result.deduplicated) {
                    assert.isFalse(watched.has(result.id), `a fresh notification has a fresh id: ${result.id}`)
                    watched.add(result.id)
                  }
                }
              } else {
                const error = results.cause.reasons[0]
                assert.isTrue(error?._tag === "Fail" && error.error._tag === "InvalidRequest", `only refused as invalid: ${String(results.cause)}`)
              }
            } else {
              const userId = p.recipient === "A" ? UserA : UserB
              const fields: Record<string, string> = { userId: JSON.stringify(userId), kind: "\"mention\"", title: "\"broken\"" }
              fields[p.field] = p.value
              const itemText = `{${Object.entries(fields).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`
              const body = p.field === "items"
                ? `{"_tag":"Request","id":"1","tag":"Notify","payload":{"items":${p.value}},"headers":[]}`
                : `{"_tag":"Request","id":"1","tag":"Notify","payload":{"items":[${itemText}]},"headers":[]}`
              const status = yield* Effect.promise(() =>
                fetch(`${herald.server.url}/rpc`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` }, body })
                  .then(async (r) => ({ status: r.status, text: await r.text() }))
              )
              // A broken item that happens to be valid (a raw value that is a fine title) is stored and delivered like any other.
              const reply = decodeReply(status.text)
              assert.isTrue(status.status === 200 && Exit.isSuccess(reply), `a documented answer: ${status.status} ${status.text}`)
              for (const message of Exit.isSuccess(reply) ? reply.value : []) {
                if (message._tag === "Defect") continue
                const exit = decodeNotifyExit(message.exit)
                assert.isTrue(Exit.isSuccess(exit), `Notify's own exit: ${status.text}`)
                if (Exit.isFailure(exit) || Exit.isFailure(exit.value)) continue
                for (const result of exit.value.value.results) if (!result.deduplicated && result.userId === userId) expected[userId].add(result.id)
              }
            }
          }
          // Every notification published so far reaches its user's socket.
          yield* socketA.waitFor(() => notificationsOf(socketA).length >= expected[UserA].size)
          yield* socketB.waitFor(() => notificationsOf(socketB).length >= expected[UserB].size)
          for (const socket of sockets) {
            yield* socket.close()
            yield* socket.closed()
            for (const n of notificationsOf(socket)) assert.notInclude([UserA, UserB], n.userId, `an intruder saw ${n.userId}'s notification`)
            const ready = framesOf(socket).filter((frame) => frame.type === "ready")
            for (const frame of ready) assert.strictEqual(frame.userId, UserC, "only C's own token authenticates")
          }
          // Keeps A and B alive and exercises acks from the legitimate sockets.
          yield* socketA.sendText(JSON.stringify({ type: "ack", cursor: notificationsOf(socketA).at(-1)?.cursor ?? 0 }))
          yield* socketB.sendText(JSON.stringify({ type: "ack", cursor: notificationsOf(socketB).at(-1)?.cursor ?? 0 }))
        })

      const { numRuns } = yield* checkProperty(runOf, run, { numRuns: 150 })
      assert.isAtLeast(numRuns, 1)

      for (const [socket, userId] of [[socketA, UserA], [socketB, UserB]] as const) {
        assert.isUndefined(socket.closeCode(), `${userId}'s socket stayed open`)
        const received = notificationsOf(socket)
        assert.isTrue(received.every((n) => n.userId === userId), `${userId}'s socket saw only ${userId}'s notifications`)
        const ids = received.map((n) => n.id)
        assert.strictEqual(new Set(ids).size, ids.length, `${userId}: each notification once`)
        assert.deepStrictEqual([...ids].sort(), [...expected[userId]].sort(), `${userId}: exactly the notifications published to them`)
        const cursors = received.map((n) => n.cursor)
        assert.deepStrictEqual(cursors, [...cursors].sort((a, b) => a - b), `${userId}: in cursor order`)
        assert.isAbove(ids.length, 0, `${userId} was published to at all`)
      }
    }), 300_000)
})
