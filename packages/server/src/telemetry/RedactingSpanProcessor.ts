/**
 * Wraps span processors so that no span leaves the process with a raw user
 * id: effect/cluster names each mailbox span's entity (`entity.id`, which is
 * the user id), and this replaces it with the same hash Herald's own
 * attributes use. Every processor Herald installs goes through it.
 */
import type { Context } from "@opentelemetry/api"
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { hashUserId } from "./UserHash.ts"

export const redacting = (inner: SpanProcessor): SpanProcessor => ({
  onStart: (span: Span, parentContext: Context) => inner.onStart(span, parentContext),
  // At the end, because effect sets a span's attributes after starting it.
  onEnd: (span: ReadableSpan) => {
    const entityId = span.attributes["entity.id"]
    if (typeof entityId === "string") span.attributes["entity.id"] = hashUserId(entityId)
    inner.onEnd(span)
  },
  forceFlush: () => inner.forceFlush(),
  shutdown: () => inner.shutdown()
})
