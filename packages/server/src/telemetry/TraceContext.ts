/**
 * W3C trace context as Herald carries it between the places one
 * notification's trace passes through: the publish's span is written as a
 * `traceparent` string next to the notification (and into its fan-out
 * frames), and the socket write, the client ack, push, email and digest
 * spans continue that trace from it, on whichever node and whenever they run.
 */
import { Effect, Option, type Tracer } from "effect"
import { Headers, HttpTraceContext } from "effect/http"

export const traceparentOf = (span: Tracer.AnySpan): string =>
  `00-${span.traceId.padStart(32, "0")}-${span.spanId}-${span.sampled ? "01" : "00"}`

/** The span a stored or received `traceparent` names, if it is a valid one. */
export const spanFromTraceparent = (traceparent: string | null | undefined): Option.Option<Tracer.ExternalSpan> =>
  traceparent === null || traceparent === undefined
    ? Option.none()
    : HttpTraceContext.fromHeaders(Headers.fromRecordUnsafe({ traceparent }))

/** The current span as a `traceparent`, or null without one (tracing off). */
export const currentTraceparent: Effect.Effect<string | null> = Effect.currentSpan.pipe(
  Effect.map(traceparentOf),
  Effect.orElseSucceed(() => null)
)

/** Runs `effect` as a continuation of the trace `traceparent` names (as is without one). */
export const continueTrace = (traceparent: string | null | undefined) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Option.match(spanFromTraceparent(traceparent), {
    onNone: () => effect,
    onSome: (parent) => Effect.withParentSpan(effect, parent)
  })
