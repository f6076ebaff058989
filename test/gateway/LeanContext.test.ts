/**
 * The contexts requests run in stay small: an HTTP handler's fiber keeps
 * effect's references but not Herald's services or the RPC handler entries,
 * and a handlers layer keeps only the services it was given.
 */
import { assert, it } from "@effect/vitest"
import { builtWithOnly, withoutHeraldServices } from "@herald/server/gateway/LeanContext"
import { Context, Effect, Exit, Layer, References } from "effect"

class Own extends Context.Service<Own, { readonly n: number }>()("@herald/server/test/Own") {}
class Handler extends Context.Service<Handler, { readonly n: number }>()("effect/rpc/Rpc/Ping") {}
class Other extends Context.Service<Other, { readonly n: number }>()("test/Other") {}
class Captured extends Context.Service<Captured, Context.Context<never>>()("test/Captured") {}

it.effect("withoutHeraldServices keeps references and other services, drops Herald's and the RPC handlers'", () =>
  Effect.gen(function*() {
    const seen = yield* withoutHeraldServices(Effect.context<never>()).pipe(
      Effect.provideService(Own, { n: 1 }),
      Effect.provideService(Handler, { n: 2 }),
      Effect.provideService(Other, { n: 3 }),
      Effect.provideService(References.MinimumLogLevel, "Error")
    )
    assert.isFalse(seen.mapUnsafe.has(Own.key))
    assert.isFalse(seen.mapUnsafe.has(Handler.key))
    assert.deepStrictEqual(seen.mapUnsafe.get(Other.key), { n: 3 })
    assert.strictEqual(Context.get(seen, References.MinimumLogLevel), "Error")
  }))

// A layer that keeps the context it was built in, as effect/rpc's handler layers do.
const capturing = Layer.effect(
  Captured,
  Effect.gen(function*() {
    yield* Own
    return yield* Effect.context<never>()
  })
)

it.effect("builtWithOnly builds a layer with the picked services alone", () =>
  Effect.gen(function*() {
    const captured = yield* Effect.service(Captured).pipe(
      Effect.provide(builtWithOnly(capturing, Context.pick(Own)).pipe(
        Layer.provide(Layer.mergeAll(Layer.succeed(Own, { n: 1 }), Layer.succeed(Other, { n: 3 })))
      ))
    )
    assert.deepStrictEqual(captured.mapUnsafe.get(Own.key), { n: 1 })
    assert.isFalse(captured.mapUnsafe.has(Other.key))
  }))

it.effect("builtWithOnly fails the build at once when the pick leaves out a service the layer uses", () =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Effect.service(Captured).pipe(
      // The types keep a pick from leaving out what the layer needs; an unsafe context gets past them.
      Effect.provide(builtWithOnly(capturing, () => Context.makeUnsafe<Own>(new Map())).pipe(
        Layer.provide(Layer.mergeAll(Layer.succeed(Own, { n: 1 }), Layer.succeed(Other, { n: 3 })))
      ))
    ))
    assert.isTrue(Exit.isFailure(exit))
  }))
