/**
 * Keeps the contexts that requests run in small.
 *
 * Effect copies a context's whole map when it merges two (effect/rpc merges
 * the handlers' context into every request's) and at every eighth service
 * added to a fiber's context (each span adds one). Built inside the server's
 * layer graph, both contexts held every service of the server (74 on the
 * request fiber, about 45 in the handlers'), so those copies were a quarter
 * of the bytes a publish allocated and about 4 % of the server's CPU
 * (docs/performance.md, 2026-12-07).
 *
 * Nothing reads Herald's own services or the RPC handler entries from a
 * request's context: services take what they use when they are built
 * (STYLE.md), and effect/rpc finds handlers in the context it captured when
 * its server was built. What stays are effect's references (tracer, logger,
 * minimum log level, …), which are read at run time, and the dozen services
 * of effect's own modules (SQL, cluster, platform), left as they were.
 */
import { Context, Effect, Layer } from "effect"

const isHeraldOwn = (key: string) => key.startsWith("@herald/") || key.startsWith("effect/rpc/Rpc/")

/**
 * `effect` run in its context less Herald's services and the RPC handler entries. For
 * effects that capture the context to run later work in, such as an HTTP handler: the work
 * must need nothing from the context by its type (`R` is `never`), as the signature says.
 */
export const withoutHeraldServices = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.updateContext(effect, (context: Context.Context<never>) =>
    Context.makeUnsafe<never>(new Map([...context.mapUnsafe].filter(([key]) => !isHeraldOwn(key)))))

/**
 * `layer` built in a context holding only what `pick` takes from its own, so that what
 * the layer captures of its context (effect/rpc's handler layers keep it, and merge it into
 * every request's) is small. A service `pick` leaves out is missing at build time, and the
 * build fails at once, in every test that starts a server.
 */
export const builtWithOnly = <ROut, E, RIn>(
  layer: Layer.Layer<ROut, E, RIn>,
  pick: (context: Context.Context<RIn>) => Context.Context<RIn>
): Layer.Layer<ROut, E, RIn> =>
  Layer.effectContext(Effect.gen(function*() {
    const only = pick(yield* Effect.context<RIn>())
    const scope = yield* Effect.scope
    return yield* Layer.buildWithScope(layer, scope).pipe(Effect.updateContext((_: Context.Context<never>) => only))
  }))
