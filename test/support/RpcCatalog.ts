/**
 * Herald's three RPC groups as a fuzzer needs them, derived from the domain
 * (so RPCs added later are fuzzed without touching the tests): each group's
 * tags with their payload schemas, schema-valid payloads in their JSON
 * encoding (sampled from the payload schema with Effect's own `Arbitrary`),
 * and how to decode what the server answered with the RPC's own exit schema,
 * whose failure side is exactly the RPC's declared tagged errors.
 */
import { AdminRpcs, AppRpcs, UserRpcs } from "@herald/domain"
import { Arbitrary, Effect, Exit, Schema } from "effect"
import { Rpc } from "effect/rpc"

export interface RpcEntry {
  readonly tag: string
  /** Decodes the JSON form of a payload; a failure is what the server must refuse with a Die naming the field. */
  readonly decodePayload: (payload: unknown) => Exit.Exit<unknown, unknown>
  /** Decodes the JSON form of the RPC's exit: a typed domain error or a defect, never anything else. */
  readonly decodeExit: (exit: unknown) => Exit.Exit<Exit.Exit<unknown, unknown>, unknown>
  /** Schema-valid payloads, JSON-encoded. */
  readonly samples: ReadonlyArray<unknown>
}

/** The exit of a request the server could not match to an RPC (an unknown tag): a defect only. */
export const decodeUnknownTagExit = Schema.decodeUnknownExit(
  Schema.toCodecJson(Schema.Exit(Schema.Never, Schema.Never, Schema.Defect()))
)

const entryOf = (
  tag: string,
  payloadSchema: Schema.Codec<unknown, unknown>,
  exitSchema: Schema.Codec<Exit.Exit<unknown, unknown>, unknown>,
  samplesPerTag: number
) =>
  Effect.gen(function*() {
    const payload = Schema.toCodecJson(payloadSchema)
    const sampled = yield* Arbitrary.sampleEffect(Arbitrary.schema(payloadSchema), { count: samplesPerTag, size: 8, seed: tag }).pipe(
      // A schema Effect cannot sample (none today) is still fuzzed, with invalid payloads only.
      Effect.orElseSucceed((): ReadonlyArray<unknown> => [])
    )
    const encode = Schema.encodeUnknownExit(payload)
    const samples = sampled.flatMap((value) => {
      const encoded = encode(value)
      return Exit.isSuccess(encoded) ? [encoded.value] : []
    })
    return {
      tag,
      decodePayload: Schema.decodeUnknownExit(payload),
      decodeExit: Schema.decodeUnknownExit(Schema.toCodecJson(exitSchema)),
      samples
    } satisfies RpcEntry
  })

export interface RpcEndpoint {
  readonly path: "/rpc" | "/rpc/admin" | "/rpc/me"
  readonly entries: ReadonlyArray<RpcEntry>
}

/** The app, admin and user groups with their RPCs and valid sample payloads. */
export const rpcCatalog = (samplesPerTag = 6) =>
  Effect.all({
    app: Effect.forEach(AppRpcs.AppRpcs.requests.values(), (rpc) => entryOf(rpc._tag, rpc.payloadSchema, Rpc.exitSchema(rpc), samplesPerTag)).pipe(
      Effect.map((entries): RpcEndpoint => ({ path: "/rpc", entries }))
    ),
    admin: Effect.forEach(AdminRpcs.AdminRpcs.requests.values(), (rpc) => entryOf(rpc._tag, rpc.payloadSchema, Rpc.exitSchema(rpc), samplesPerTag)).pipe(
      Effect.map((entries): RpcEndpoint => ({ path: "/rpc/admin", entries }))
    ),
    me: Effect.forEach(UserRpcs.UserRpcs.requests.values(), (rpc) => entryOf(rpc._tag, rpc.payloadSchema, Rpc.exitSchema(rpc), samplesPerTag)).pipe(
      Effect.map((entries): RpcEndpoint => ({ path: "/rpc/me", entries }))
    )
  })
