/**
 * Runs a page's effects on one `ManagedRuntime` built from its client layer
 * (the user's or the admin's). A failure is never dropped: a refused
 * credential (401, or a socket refusing the token) goes to `onRefused`,
 * anything else to the alert region. Disposing interrupts every fiber the
 * runtime started.
 */
import { Cause, Effect, Exit, type Layer, ManagedRuntime, Option } from "effect"
import { showError } from "./alerts.ts"
import { describeCause, errorOf, isRefusedCredential } from "./errors.ts"

export interface PageRuntime<R> {
  /** Runs `effect`; resolves with its value, or none once its failure has been reported. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, R>) => Promise<Option.Option<A>>
  /** Starts `effect` in the background (a socket); its failure is reported like `run`'s. */
  readonly fork: <A, E>(effect: Effect.Effect<A, E, R>) => void
  readonly dispose: () => void
}

export const makePageRuntime = <R>(layer: Layer.Layer<R>, onRefused: () => void): PageRuntime<R> => {
  const runtime = ManagedRuntime.make(layer)
  let disposed = false
  const report = <E>(cause: Cause.Cause<E>) => {
    if (disposed || Cause.hasInterruptsOnly(cause)) return
    const error = errorOf(cause)
    if (Option.isSome(error) && isRefusedCredential(error.value)) return onRefused()
    showError(describeCause(cause))
  }
  return {
    run: (effect) =>
      runtime.runPromiseExit(effect).then((exit) => {
        if (Exit.isSuccess(exit)) return Option.some(exit.value)
        report(exit.cause)
        return Option.none()
      }),
    fork: (effect) => {
      runtime.runFork(effect.pipe(Effect.onExit((exit) => Effect.sync(() => Exit.isFailure(exit) && report(exit.cause)))))
    },
    dispose: () => {
      if (disposed) return
      disposed = true
      void runtime.dispose()
    }
  }
}
