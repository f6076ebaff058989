import { Duration, Effect } from "effect"

/** Re-runs `effect` until `done` holds of its result (every `every`, at most `times` runs); returns the last result. */
export const eventually = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  options: { readonly times?: number; readonly every?: Duration.Input } = {}
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const times = options.times ?? 100
    let result = yield* effect
    for (let i = 1; i < times && !done(result); i++) {
      yield* Effect.sleep(options.every ?? Duration.millis(50))
      result = yield* effect
    }
    return result
  })
