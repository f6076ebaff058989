/**
 * OpenTelemetry export, configured by the standard `OTEL_*` variables.
 *
 * - With an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the per-signal
 *   `…_TRACES_ENDPOINT` / `…_METRICS_ENDPOINT`): spans go out in batches and
 *   metrics every `OTEL_METRIC_EXPORT_INTERVAL` (the exporters read the rest
 *   of the standard variables themselves: headers, protocol, timeouts).
 *   `OTEL_SERVICE_NAME` names the service (default `herald`).
 * - `OTEL_TRACES_EXPORTER=memory` (Herald's own value, for benchmarks): spans are
 *   made and exported to OpenTelemetry's in-memory exporter, which is emptied every
 *   10,000 spans, so the cost of tracing can be measured without a network.
 * - With none, or `OTEL_SDK_DISABLED=true`: tracing is switched off
 *   (`References.TracerEnabled`), so a span costs a check and nothing more;
 *   metrics stay in memory for `/metrics`.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler
} from "@opentelemetry/sdk-trace-base"
import { Config, Effect, Layer, Option, References, Schema } from "effect"
import { redacting } from "./RedactingSpanProcessor.ts"

const settings = Config.all({
  disabled: Config.Boolean("OTEL_SDK_DISABLED").pipe(Config.withDefault(false)),
  endpoint: Config.option(Config.NonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT")),
  tracesEndpoint: Config.option(Config.NonEmptyString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")),
  metricsEndpoint: Config.option(Config.NonEmptyString("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")),
  serviceName: Config.NonEmptyString("OTEL_SERVICE_NAME").pipe(Config.withDefault("herald")),
  tracesExporter: Config.option(Config.Literals(["otlp", "memory", "none"], "OTEL_TRACES_EXPORTER")),
  sampler: Config.Literals(
    ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"],
    "OTEL_TRACES_SAMPLER"
  ).pipe(Config.withDefault("parentbased_always_on")),
  samplerRatio: Config.schema(
    Schema.NumberFromString.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
    "OTEL_TRACES_SAMPLER_ARG"
  ).pipe(Config.withDefault(1)),
  // The reader does not read this standard variable itself (only the SDK's NodeSDK does).
  metricInterval: Config.schema(
    Schema.NumberFromString.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThan(0))),
    "OTEL_METRIC_EXPORT_INTERVAL"
  ).pipe(Config.withDefault(60_000))
})

// The standard sampler variables; the tracer provider effect installs does not read them itself.
const samplerOf = (name: string, ratio: number): Sampler => {
  const root = name.endsWith("always_off") ? new AlwaysOffSampler()
    : name.endsWith("traceidratio") ? new TraceIdRatioBasedSampler(ratio)
    : new AlwaysOnSampler()
  return name.startsWith("parentbased_") ? new ParentBasedSampler({ root }) : root
}

const MemoryLimit = 10_000

/** Spans into OpenTelemetry's in-memory exporter, emptied when it holds `MemoryLimit`. */
const memoryProcessor = () => {
  const exporter = new InMemorySpanExporter()
  const inner = new SimpleSpanProcessor(exporter)
  return {
    onStart: inner.onStart.bind(inner),
    onEnd: (span: ReadableSpan) => {
      inner.onEnd(span)
      if (exporter.getFinishedSpans().length >= MemoryLimit) exporter.reset()
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown()
  }
}

/** Tracing off: spans are not even created. */
export const TracingOff = Layer.succeed(References.TracerEnabled, false)

export const TelemetryFromEnv: Layer.Layer<never, Config.ConfigError> = Layer.unwrap(Effect.gen(function*() {
  const env = yield* settings
  const exporter = Option.getOrUndefined(env.tracesExporter)
  if (!env.disabled && exporter === "memory") {
    return NodeSdk.layer(() => ({
      resource: { serviceName: env.serviceName },
      tracerConfig: { sampler: samplerOf(env.sampler, env.samplerRatio) },
      spanProcessor: redacting(memoryProcessor())
    }))
  }
  const traces = !env.disabled && exporter !== "none" && (Option.isSome(env.endpoint) || Option.isSome(env.tracesEndpoint))
  const metrics = !env.disabled && (Option.isSome(env.endpoint) || Option.isSome(env.metricsEndpoint))
  if (!traces && !metrics) return TracingOff
  const sdk = NodeSdk.layer(() => ({
    resource: { serviceName: env.serviceName },
    tracerConfig: { sampler: samplerOf(env.sampler, env.samplerRatio) },
    spanProcessor: traces ? redacting(new BatchSpanProcessor(new OTLPTraceExporter())) : undefined,
    metricReader: metrics
      ? new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: env.metricInterval })
      : undefined
  }))
  return traces ? sdk : Layer.merge(sdk, TracingOff)
}))
