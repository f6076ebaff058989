/**
 * Fuzzing the three RPC endpoints (`/rpc` with the app key, `/rpc/admin` with
 * the admin key, `/rpc/me` with a client token) with fast-check: arbitrary
 * text and JSON, request envelopes for every real RPC tag (taken from the
 * domain's groups) carrying schema-valid payloads sampled from the payload
 * schema, the same payloads with one field replaced, removed or added at any
 * depth, unknown tags, absurd raw values (NaN, 1e999), wrong content types,
 * methods and keys, batches, and bodies over the size limit. The server must:
 *
 * - answer with a documented outcome: a 4xx problem JSON (`{error, message}`),
 *   or 200 with RPC messages, never 5xx (the one documented 5xx, 503, only
 *   with a problem body);
 * - answer a well-formed request with exactly one `Exit` for its id, decoded
 *   with the RPC's own exit schema, so a failure is one of its declared tagged
 *   errors (packages/domain/src/Errors.ts) or a defect; a schema-valid payload
 *   never dies, a schema-invalid one always does (the documented `Die` naming
 *   the field), and only a schema-valid one succeeds;
 * - write nothing by halves: the notifications table grows by exactly the
 *   items that successful `Notify` calls report stored, and by nothing else;
 *   a publish retried with the same idempotency key (any characters) is
 *   deduplicated, or refused as invalid the first time, never a storage failure.
 */
import { assert, layer } from "@effect/vitest"
import { AppRpcs } from "@herald/domain"
import { Effect, Exit, Predicate, Schema } from "effect"
import { Rpc } from "effect/rpc"
import fc from "fast-check"
import { Herald } from "../support/Herald.ts"
import { checkProperty } from "../support/Property.ts"
import { decodeUnknownTagExit, rpcCatalog, type RpcEndpoint, type RpcEntry } from "../support/RpcCatalog.ts"
import { query } from "../support/TestDatabase.ts"
import { adminKey, apiKey } from "../support/TestServer.ts"
import { anyString, rawValueText, smallJson } from "./Arbitraries.ts"

/** Small, so that bodies over it are cheap to send; the limit logic is the same at any size. */
const MaxBody = 32 * 1024
const MeUser = "fz-rpc-me"

type Path = ReadonlyArray<string | number>

const decodeJson = Schema.decodeUnknownExit(Schema.fromJsonString(Schema.Unknown))

/** Every path into a JSON value, the root included. */
const pathsOf = (value: unknown, prefix: Path = []): ReadonlyArray<Path> => {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((item, i) => pathsOf(item, [...prefix, i]))]
  if (Predicate.isObject(value)) return [prefix, ...Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...prefix, key]))]
  return [prefix]
}

/** `value` with the value at `path` replaced (or removed, for `undefined`), copying only along the path. */
const setAt = (value: unknown, path: Path, replacement: unknown): unknown => {
  const [head, ...rest] = path
  if (head === undefined) return replacement
  if (Array.isArray(value) && typeof head === "number") {
    const copy: Array<unknown> = [...value]
    if (rest.length === 0 && replacement === undefined) copy.splice(head, 1)
    else copy[head] = setAt(copy[head], rest, replacement)
    return copy
  }
  if (Predicate.isObject(value) && typeof head === "string") {
    const copy: Record<string, unknown> = { ...value }
    if (rest.length === 0 && replacement === undefined) delete copy[head]
    else copy[head] = setAt(copy[head], rest, replacement)
    return copy
  }
  return value
}

/** A payload: a valid sample, a sample with one change anywhere in it, or anything at all. */
const payloadFor = (entry: RpcEntry): fc.Arbitrary<unknown> => {
  const anything = fc.oneof(smallJson, fc.constant(undefined), fc.constant({}))
  if (entry.samples.length === 0) return anything
  const sample = fc.constantFrom(...entry.samples)
  const mutated = sample.chain((value) => {
    const paths = pathsOf(value)
    return fc.tuple(fc.constantFrom(...paths), fc.oneof(smallJson, fc.constant(undefined), anyString)).map(([path, replacement]) =>
      setAt(value, path, replacement)
    )
  })
  const extraField = fc.tuple(sample, fc.string({ maxLength: 8 }), smallJson).map(([value, key, extra]) =>
    Predicate.isObject(value) ? { ...value, [key]: extra } : value
  )
  return fc.oneof({ arbitrary: sample, weight: 3 }, { arbitrary: mutated, weight: 4 }, { arbitrary: extraField, weight: 1 }, { arbitrary: anything, weight: 1 })
}

interface Envelope {
  readonly id: string
  readonly tag: string
  readonly payload: unknown
}

const envelopeFor = (endpoint: RpcEndpoint): fc.Arbitrary<Omit<Envelope, "id">> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...endpoint.entries).chain((entry) => payloadFor(entry).map((payload) => ({ tag: entry.tag, payload }))), weight: 9 },
    { arbitrary: fc.tuple(anyString, smallJson).map(([tag, payload]) => ({ tag, payload })), weight: 1 }
  )

const wire = (envelope: Envelope) => ({ _tag: "Request", id: envelope.id, tag: envelope.tag, payload: envelope.payload, headers: [] })

/** What is sent: the text, and the well-formed requests it holds (none for raw text). */
interface Body {
  readonly text: string
  readonly requests: ReadonlyArray<Envelope> | undefined
}

const singleBody = (endpoint: RpcEndpoint): fc.Arbitrary<Body> =>
  fc.oneof(
    { arbitrary: envelopeFor(endpoint).map((e): Body => ({ text: JSON.stringify(wire({ id: "1", ...e })), requests: [{ id: "1", ...e }] })), weight: 8 },
    { arbitrary: anyString.map((text): Body => ({ text, requests: undefined })), weight: 1 },
    { arbitrary: smallJson.map((value): Body => ({ text: JSON.stringify(value), requests: undefined })), weight: 1 },
    // The envelope itself malformed: an absurd id, headers or tag, or a raw value JSON cannot hold.
    {
      arbitrary: fc.tuple(fc.constantFrom("id", "headers", "tag", "_tag", "payload", "traceId"), rawValueText, fc.constantFrom(...endpoint.entries)).map(
        ([field, value, entry]): Body => {
          const fields: Record<string, string> = { _tag: "\"Request\"", id: "\"1\"", tag: JSON.stringify(entry.tag), payload: "{}", headers: "[]" }
          fields[field] = value
          return { text: `{${Object.entries(fields).map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(",")}}`, requests: undefined }
        }
      ),
      weight: 2
    }
  )

const batchBody = (endpoint: RpcEndpoint, distinctIds: boolean): fc.Arbitrary<Body> =>
  fc.array(fc.tuple(envelopeFor(endpoint), fc.constantFrom("1", "2", "3")), { minLength: 0, maxLength: 4 }).map((items): Body => {
    const requests = items.map(([envelope, id], i) => ({ ...envelope, id: distinctIds ? String(i + 1) : id }))
    return { text: JSON.stringify(requests.map(wire)), requests }
  })

type Credential = "right" | "wrong" | "none"

interface Call {
  readonly endpoint: "app" | "admin" | "me"
  readonly method: string
  readonly contentType: string | undefined
  readonly credential: Credential
  readonly body: Body
}

const transport = {
  method: fc.oneof({ arbitrary: fc.constant("POST"), weight: 12 }, { arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH"), weight: 1 }),
  contentType: fc.oneof(
    { arbitrary: fc.constant("application/json"), weight: 8 },
    { arbitrary: fc.constantFrom(undefined, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream", "application/json; charset=latin1"), weight: 3 }
  ),
  credential: fc.oneof({ arbitrary: fc.constant<Credential>("right"), weight: 12 }, { arbitrary: fc.constantFrom<Credential>("wrong", "none"), weight: 1 })
}

const callOf = (catalog: { readonly [K in Call["endpoint"]]: RpcEndpoint }, bodyOf: (endpoint: RpcEndpoint) => fc.Arbitrary<Body>) =>
  fc.constantFrom<Call["endpoint"]>("app", "admin", "me").chain((endpoint) =>
    fc.record({
      endpoint: fc.constant(endpoint),
      method: transport.method,
      contentType: transport.contentType,
      credential: transport.credential,
      body: bodyOf(catalog[endpoint])
    })
  )

/** The refusal body of packages/server/src/gateway/Problem.ts. */
const Problem = Schema.fromJsonString(Schema.Struct({ error: Schema.String, message: Schema.String }))
const decodeProblem = Schema.decodeUnknownExit(Problem)

/**
 * The messages effect/rpc answers an HTTP request with. A request id JSON cannot echo (`1e999` is
 * Infinity) comes back as null: effect/rpc's doing, harmless, so it is let through here.
 */
const RpcReply = Schema.fromJsonString(Schema.Array(Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Exit"), requestId: Schema.Union([Schema.String, Schema.Number, Schema.Null]), exit: Schema.Unknown }),
  Schema.Struct({ _tag: Schema.Literal("Defect"), defect: Schema.Unknown }),
  Schema.Struct({ _tag: Schema.Literal("Pong") })
])))
const decodeReply = Schema.decodeUnknownExit(RpcReply)
const decodeNotifyExit = Schema.decodeUnknownExit(Schema.toCodecJson(Rpc.exitSchema(AppRpcs.Notify)))

const storedCount = (databaseUrl: string) =>
  query<{ n: string }>(databaseUrl, "SELECT count(*)::text AS n FROM notifications").pipe(Effect.map((rows) => Number(rows[0]?.n ?? "0")))

/** Checks one answered exit against what the payload deserved; returns how many notifications it reports stored. */
const checkExit = (entry: RpcEntry | undefined, endpoint: Call["endpoint"], request: Envelope, exit: unknown): number => {
  const label = `${endpoint} ${request.tag} ${JSON.stringify(request.payload)} → ${JSON.stringify(exit)}`
  if (entry === undefined) {
    // An unknown tag: a defect, nothing else.
    const decoded = decodeUnknownTagExit(exit)
    assert.isTrue(Exit.isSuccess(decoded) && Exit.isFailure(decoded.value), `an unknown tag dies: ${label}`)
    return 0
  }
  const decoded = entry.decodeExit(exit)
  assert.isTrue(Exit.isSuccess(decoded), `the exit decodes with the RPC's own schema (typed errors only): ${label}`)
  if (Exit.isFailure(decoded)) return 0
  const outcome = decoded.value
  const valid = Exit.isSuccess(entry.decodePayload(request.payload))
  if (Exit.isSuccess(outcome)) {
    assert.isTrue(valid, `only a schema-valid payload succeeds: ${label}`)
  } else {
    const reasons = outcome.cause.reasons
    assert.isFalse(reasons.some((reason) => reason._tag === "Interrupt"), `not interrupted: ${label}`)
    const died = reasons.some((reason) => reason._tag === "Die")
    if (valid) assert.isFalse(died, `a schema-valid payload never dies (a defect is a bug): ${label}`)
    else assert.isTrue(died, `a schema-invalid payload is refused with a Die naming the field: ${label}`)
  }
  if (endpoint !== "app" || request.tag !== "Notify") return 0
  const notify = decodeNotifyExit(exit)
  if (Exit.isFailure(notify) || Exit.isFailure(notify.value)) return 0
  return notify.value.value.results.filter((result) => !result.deduplicated).length
}

layer(Herald.layer({ limits: { requestBody: MaxBody } }), { excludeTestServices: true, timeout: "60 seconds" })("fuzzed RPC payloads", (it) => {
  const setup = Effect.gen(function*() {
    const herald = yield* Herald
    const catalog = yield* rpcCatalog()
    // Guards the derivation: without tags and valid samples the properties below would prove little.
    for (const endpoint of [catalog.app, catalog.admin, catalog.me]) {
      assert.isAtLeast(endpoint.entries.length, 8, endpoint.path)
      for (const entry of endpoint.entries) assert.isAbove(entry.samples.length, 0, `${endpoint.path} ${entry.tag} has valid samples`)
    }
    const meToken = yield* herald.token(MeUser)
    // The wrong credentials are the documented refusals (docs/security.md): a key that is no key,
    // the app key on admin routes, and a key in place of a client token on /rpc/me.
    const credentials = {
      app: { right: apiKey, wrong: "not-the-key" },
      admin: { right: adminKey, wrong: apiKey },
      me: { right: meToken, wrong: apiKey }
    }
    const send = (call: Call) =>
      Effect.promise(async () => {
        const key = call.credential === "none" ? undefined : credentials[call.endpoint][call.credential]
        const headers: Record<string, string> = {
          ...(call.contentType === undefined ? {} : { "content-type": call.contentType }),
          ...(key === undefined ? {} : { authorization: `Bearer ${key}` })
        }
        const path = catalog[call.endpoint].path
        const hasBody = call.method !== "GET"
        const response = await fetch(`${herald.server.url}${path}`, { method: call.method, headers, ...(hasBody ? { body: call.body.text } : {}) })
        return { status: response.status, text: await response.text() }
      })

    const run = (call: Call) =>
      Effect.gen(function*() {
        const before = yield* storedCount(herald.databaseUrl)
        const response = yield* send(call)
        const label = `${call.method} ${catalog[call.endpoint].path} (${call.credential} credential) ${call.body.text.slice(0, 400)} → ${response.status} ${response.text.slice(0, 400)}`
        let stored = 0
        if (response.status >= 500) {
          assert.strictEqual(response.status, 503, `never 5xx but a documented 503: ${label}`)
          assert.isTrue(Exit.isSuccess(decodeProblem(response.text)), `a 503 says why in a problem body: ${label}`)
        } else if (response.status >= 400) {
          assert.isTrue(Exit.isSuccess(decodeProblem(response.text)), `a refusal is a problem JSON: ${label}`)
          if (call.method !== "POST") assert.strictEqual(response.status, 405, label)
          else if (call.credential !== "right") assert.strictEqual(response.status, 401, label)
          else {
            const requests = call.body.requests
            const repeatsAnId = requests !== undefined && new Set(requests.map((request) => request.id)).size < requests.length
            // A batch repeating a request id is refused whole (400) rather than half run (docs/security.md).
            if (repeatsAnId) assert.strictEqual(response.status, 400, `a batch repeating an id is refused whole: ${label}`)
            else assert.include([413, 429], response.status, `a POST with the right credential is only refused for size or rate: ${label}`)
          }
        } else {
          assert.strictEqual(response.status, 200, label)
          assert.strictEqual(call.method, "POST", label)
          assert.strictEqual(call.credential, "right", `nothing runs without the right credential: ${label}`)
          const reply = decodeReply(response.text)
          assert.isTrue(Exit.isSuccess(reply), `the answer is RPC messages: ${label}`)
          const messages = Exit.isSuccess(reply) ? reply.value : []
          const requests = call.body.requests
          if (requests !== undefined && new Set(requests.map((request) => request.id)).size === requests.length) {
            // Well-formed requests: one Exit each, for its id, and no protocol defect.
            assert.isFalse(messages.some((message) => message._tag !== "Exit"), `well-formed requests get exits only: ${label}`)
            const exits = messages.flatMap((message) => message._tag === "Exit" ? [message] : [])
            assert.deepStrictEqual(exits.map((exit) => String(exit.requestId)).sort(), requests.map((request) => request.id).sort(), `one exit per request: ${label}`)
            for (const exit of exits) {
              const request = requests.find((r) => r.id === String(exit.requestId))
              if (request === undefined) continue
              const entry = catalog[call.endpoint].entries.find((e) => e.tag === request.tag)
              stored += checkExit(entry, call.endpoint, request, exit.exit)
            }
          } else {
            if (requests === undefined && Exit.isFailure(decodeJson(call.body.text))) {
              assert.deepStrictEqual(messages.map((message) => message._tag), ["Defect"], `a body that is not JSON is one defect: ${label}`)
            }
            // Requests told apart by nothing but their ids cannot be matched to exits: count what Notify exits report stored.
            for (const message of messages) {
              if (message._tag !== "Exit" || call.endpoint !== "app") continue
              const notify = decodeNotifyExit(message.exit)
              if (Exit.isSuccess(notify) && Exit.isSuccess(notify.value)) stored += notify.value.value.results.filter((r) => !r.deduplicated).length
            }
          }
        }
        const after = yield* storedCount(herald.databaseUrl)
        assert.strictEqual(after - before, stored, `the store grew by exactly what was reported stored: ${label}`)
      })
    return { herald, catalog, run, send }
  })

  it.effect("single requests with random payloads get a documented outcome and write nothing by halves", () =>
    Effect.gen(function*() {
      const { catalog, herald, run } = yield* setup
      const { numRuns } = yield* checkProperty(callOf(catalog, singleBody), run, { numRuns: 300 })
      assert.isAtLeast(numRuns, 1)
      assert.strictEqual(yield* Effect.promise(() => fetch(`${herald.server.url}/healthz`).then((r) => r.status)), 200)
    }), 300_000)

  it.effect("batches of requests, with distinct or repeated ids, get a documented outcome", () =>
    Effect.gen(function*() {
      const { catalog, run } = yield* setup
      const distinct = yield* checkProperty(callOf(catalog, (endpoint) => batchBody(endpoint, true)), run, { numRuns: 100 })
      assert.isAtLeast(distinct.numRuns, 1)
      // Repeated ids are not well-formed (requests are told apart by id): the status, the shape of the answer and what was stored are checked.
      const repeated = yield* checkProperty(callOf(catalog, (endpoint) => batchBody(endpoint, false)), run, { numRuns: 100 })
      assert.isAtLeast(repeated.numRuns, 1)
    }), 300_000)

  it.effect("a publish retried with the same idempotency key, whatever its characters, is deduplicated or refused, never a storage failure", () =>
    Effect.gen(function*() {
      const { herald } = yield* setup
      let runs = 0
      const run = (key: string) =>
        Effect.gen(function*() {
          // A user of its own per execution, so shrinking's re-runs start from nothing stored.
          const userId = `fz-key-${++runs}`
          const item = { userId, kind: "mention" as const, title: "retried", idempotencyKey: key }
          const first = yield* Effect.exit(herald.client.notify(item))
          const label = `idempotency key ${JSON.stringify(key)}: ${String(first)}`
          if (Exit.isFailure(first)) {
            const reason = first.cause.reasons[0]
            assert.isTrue(reason?._tag === "Fail" && reason.error._tag === "InvalidRequest", `refused as invalid, if at all: ${label}`)
            return
          }
          const again = yield* Effect.exit(herald.client.notify(item))
          assert.isTrue(Exit.isSuccess(again), `the retry is answered, not failed: ${label} then ${String(again)}`)
          if (Exit.isSuccess(again)) {
            assert.isTrue(again.value.deduplicated, label)
            assert.strictEqual(again.value.id, first.value.id, label)
          }
          assert.strictEqual(yield* herald.client.unreadCount(userId).pipe(Effect.orDie), 1, `stored once: ${label}`)
        })
      const { numRuns } = yield* checkProperty(anyString.filter((key) => key.length >= 1 && key.length <= 200), run, { numRuns: 100 })
      assert.isAtLeast(numRuns, 1)
    }), 120_000)

  it.effect("bodies around and over the size limit get 413 with a problem body past it, with or without a length", () =>
    Effect.gen(function*() {
      const { herald } = yield* setup
      const request = JSON.stringify({ _tag: "Request", id: "1", tag: "UnreadCount", payload: { userId: "fz-big" }, headers: [], pad: "" })
      const sized = fc.record({
        size: fc.oneof(fc.constantFrom(MaxBody - 1, MaxBody, MaxBody + 1), fc.integer({ min: MaxBody + 1, max: 3 * MaxBody })),
        chunked: fc.boolean()
      })
      const run = ({ chunked, size }: { readonly size: number; readonly chunked: boolean }) =>
        Effect.gen(function*() {
          const text = request.replace("\"pad\":\"\"", `"pad":"${"x".repeat(Math.max(0, size - request.length))}"`)
          const response = yield* Effect.promise(async () => {
            const bytes = new TextEncoder().encode(text)
            // A stream body goes out chunked, without content-length: the limit must hold while reading too.
            const body = chunked ? new ReadableStream<Uint8Array>({
                start: (controller) => {
                  controller.enqueue(bytes)
                  controller.close()
                }
              }) : text
            const init: RequestInit & { readonly duplex: "half" } = {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
              body,
              duplex: "half"
            }
            const res = await fetch(`${herald.server.url}/rpc`, init)
            return { status: res.status, text: await res.text() }
          })
          const label = `${chunked ? "chunked" : "with content-length"}, ${size} bytes → ${response.status} ${response.text.slice(0, 200)}`
          if (size > MaxBody) {
            assert.strictEqual(response.status, 413, label)
            assert.isTrue(Exit.isSuccess(decodeProblem(response.text)), `a 413 says why in a problem body: ${label}`)
          } else {
            assert.strictEqual(response.status, 200, label)
            assert.isTrue(Exit.isSuccess(decodeReply(response.text)), label)
          }
        })
      const { numRuns } = yield* checkProperty(sized, run, { numRuns: 40 })
      assert.isAtLeast(numRuns, 1)
    }), 120_000)
})
