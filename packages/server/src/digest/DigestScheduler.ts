/**
 * Builds each user's digest at its scheduled instant and sends it.
 *
 * Timers are rows, not in-memory timers: `next_digest_at` on the user row is
 * set when the first digest item arrives and polled by every node, so the
 * schedule survives restarts and shard moves without any one node owning it.
 * Building locks the user rows (SKIP LOCKED) and writes a digest row unique
 * per user and instant, so two nodes or a restart never build one twice;
 * sending claims the digest row with a lease, so a crash after the claim and
 * before the send sends it again once the lease runs out.
 */
import { Cause, Context, DateTime, Effect, Layer, Metric, Option, Queue } from "effect"
import { Channels, type SendOutcome } from "../channels/Channels.ts"
import { retryDelay } from "../config/Backoff.ts"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { type ClaimedDigest, DigestRepo } from "../storage/DigestRepo.ts"
import { deliveryLatency, emailsSent } from "../telemetry/Metrics.ts"
import { spanFromTraceparent } from "../telemetry/TraceContext.ts"
import { hashUserId } from "../telemetry/UserHash.ts"

const Batch = 100

export class DigestScheduler extends Context.Service<DigestScheduler, {
  /** Builds what is due at `now` and sends every built digest that is due; returns how many digests it built. */
  runDue(now: DateTime.Utc): Effect.Effect<number>
  /** Asks the background loop to run now. */
  readonly wake: Effect.Effect<void>
}>()("@herald/server/digest/DigestScheduler") {
  static readonly layer = Layer.effect(DigestScheduler, Effect.gen(function*() {
    const config = yield* HeraldConfig
    const digests = yield* DigestRepo
    const channels = yield* Channels
    const wakeups = yield* Queue.sliding<void>(1)
    const digestLatency = Metric.withAttributes(deliveryLatency, { channel: "digest" })

    const record = (digest: ClaimedDigest, outcome: SendOutcome) => {
      switch (outcome._tag) {
        case "Sent": {
          // Each item's latency, stored → in the user's inbox by email: hours, by design.
          const now = Date.now()
          const latencies = digest.items.map((item) => now - DateTime.toEpochMillis(item.createdAt))
          return Effect.forEach(latencies, (latency) => Metric.update(digestLatency, latency), { discard: true }).pipe(
            Effect.andThen(Metric.update(Metric.withAttributes(emailsSent, { type: "digest" }), 1)),
            Effect.andThen(digests.markSent(digest.id, outcome.providerId))
          )
        }
        case "Retry":
          return digests.markFailed(digest.id, outcome.reason, outcome.retryAfter ?? retryDelay(config, digest.attempts), config.maxAttempts)
        case "Fail":
        case "Discard":
          return digests.markFailed(digest.id, outcome.reason, config.retryMax, digest.attempts)
      }
    }

    const send = Effect.gen(function*() {
      const claimed = yield* digests.claim(Batch, config.deliveryLease)
      yield* Effect.forEach(claimed, (digest) =>
        Option.match(channels.email, {
          onNone: () => digests.markFailed(digest.id, "email is not configured", config.retryMax, digest.attempts),
          onSome: (email) =>
            email.sendDigest(digest.userId, digest.target, digest.items).pipe(
              Effect.tap((outcome) => Effect.annotateCurrentSpan("herald.outcome", outcome._tag.toLowerCase())),
              Effect.flatMap((outcome) => record(digest, outcome)),
              Effect.withSpan("Delivery.digest", {
                kind: "producer",
                // A digest gathers many notifications: a trace of its own, linked to each of theirs.
                root: true,
                links: digest.traceParents.flatMap((traceParent) =>
                  Option.match(spanFromTraceparent(traceParent), {
                    onNone: () => [],
                    onSome: (span) => [{ span, attributes: { "herald.link": "notification" } }]
                  })
                ),
                attributes: {
                  "herald.channel": "digest",
                  "herald.user": hashUserId(digest.userId),
                  "herald.attempt": digest.attempts,
                  "herald.items": digest.items.length
                }
              })
            )
        }), { concurrency: 8, discard: true })
      return claimed.length
    })

    const runDue = Effect.fn("DigestScheduler.runDue")(function*(now: DateTime.Utc) {
      let built = 0
      while (true) {
        const made = yield* digests.buildDue(now, Batch)
        built += made
        if (made < Batch) break
      }
      while ((yield* send) === Batch) {}
      return built
    }, (effect) =>
      effect.pipe(
        Effect.catchTag("StorageUnavailable", (error) =>
          Effect.logWarning("digest scheduler cannot reach the database", error.message).pipe(Effect.as(0)))
      ))

    yield* Effect.forkScoped(Effect.gen(function*() {
      while (true) {
        yield* runDue(yield* DateTime.now)
        yield* Effect.raceFirst(Queue.take(wakeups), Effect.sleep(config.deliveryPoll))
      }
    }).pipe(Effect.catchCause((cause) => Effect.logError("digest scheduler stopped", Cause.pretty(cause)))))

    return DigestScheduler.of({ runDue, wake: Queue.offer(wakeups, undefined).pipe(Effect.asVoid) })
  }))
}
