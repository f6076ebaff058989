/**
 * fast-check properties whose check is an Effect, run in the calling test's
 * own context (its server, its database): each run gets a scope of its own,
 * closed before the next run starts, so sockets and clients opened by one run
 * never leak into the next.
 *
 * A falsified property fails the test with fast-check's report: the shrunk
 * counterexample, the seed and the path, which reproduce it with
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path>`. `FUZZ_RUNS=<n>` overrides the number
 * of runs for a deeper local search; the defaults stay modest because CI runs
 * these beside everything else on two cores.
 */
import { Effect, Predicate, type Scope } from "effect"
import fc from "fast-check"

export interface PropertyOptions {
  /** Runs of the property, unless `FUZZ_RUNS` says otherwise. */
  readonly numRuns: number
}

const envInt = (name: string): number | undefined => {
  const text = process.env[name]
  if (text === undefined || text === "") return undefined
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : undefined
}

/** Runs `check` for values drawn from `arbitrary`; dies with fast-check's report on the first falsified run. */
export const checkProperty = <A, R>(
  arbitrary: fc.Arbitrary<A>,
  check: (value: A) => Effect.Effect<void, never, R | Scope.Scope>,
  options: PropertyOptions
): Effect.Effect<{ readonly numRuns: number }, never, Exclude<R, Scope.Scope>> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<Exclude<R, Scope.Scope>>()
    const runOne = (value: A) => Effect.runPromiseWith(context)(Effect.scoped(check(value)))
    const seed = envInt("FUZZ_SEED")
    const path = process.env["FUZZ_PATH"]
    const numRuns = envInt("FUZZ_RUNS") ?? options.numRuns
    const details = yield* Effect.promise(() =>
      fc.check(fc.asyncProperty(arbitrary, runOne), {
        numRuns,
        ...(seed === undefined ? {} : { seed }),
        ...(path === undefined || path === "" ? {} : { path })
      })
    )
    if (details.failed) {
      // fast-check's report names the counterexample; the failed assertion says what was wrong with it.
      const cause = details.errorInstance
      const reason = Predicate.hasProperty(cause, "message") && Predicate.isString(cause.message) ? cause.message : String(cause)
      return yield* Effect.die(new Error(`${fc.defaultReportMessage(details) ?? "the property failed"}\nFailed with: ${reason}`))
    }
    return { numRuns: details.numRuns }
  })
