/**
 * Drives delivery rows to the providers: claims due rows, sends push as one
 * provider batch per notification and email one by one, then records each
 * outcome. Woken at once after a publish that wrote rows, and polling
 * otherwise, so rows left by a crash or a failed attempt are picked up.
 *
 * Each channel has a loop of its own that claims only its own rows: a round
 * waits for all of its sends, and a provider that hangs (SES holding requests
 * until the SDK's timeout) must hold up only its own channel, not the pushes
 * published meanwhile.
 *
 * Each provider has a circuit breaker: while a provider is failing, rows go
 * back to the queue without an attempt instead of piling up timeouts.
 */
import { Cause, Context, DateTime, Duration, Effect, Exit, Layer, Metric, Option, Queue, Schedule } from "effect"
import { CircuitBreaker } from "effect/persistence"
import { retryDelay } from "../config/Backoff.ts"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { type ClaimedDelivery, type DeliveryChannel, DeliveryRepo } from "../storage/DeliveryRepo.ts"
import { DeviceRepo } from "../storage/DeviceRepo.ts"
import { RolloutGuard } from "../rollout/RolloutGuard.ts"
import { deliveriesRecorded, deliveryLatency, emailsSent } from "../telemetry/Metrics.ts"
import { continueTrace } from "../telemetry/TraceContext.ts"
import { hashUserId } from "../telemetry/UserHash.ts"
import { Channels, type SendOutcome } from "./Channels.ts"

const ClaimBatch = 100
const Loops: ReadonlyArray<DeliveryChannel> = ["push", "email"]

export class DeliveryWorker extends Context.Service<DeliveryWorker, {
  /** Asks the worker to look for due rows now. */
  readonly wake: Effect.Effect<void>
  /** Claims and sends everything due now; for tests and shutdown drains. Returns how many rows it handled. */
  readonly drainOnce: Effect.Effect<number>
}>()("@herald/server/channels/DeliveryWorker") {
  static readonly layer = Layer.effect(DeliveryWorker, Effect.gen(function*() {
    const config = yield* HeraldConfig
    const rows = yield* DeliveryRepo
    const devices = yield* DeviceRepo
    const channels = yield* Channels
    const guard = yield* RolloutGuard
    const breaker = yield* CircuitBreaker.make({
      tripPolicy: CircuitBreaker.consecutive(5),
      openDuration: Schedule.exponential("2 seconds"),
      maxOpenDuration: "1 minute"
    }).pipe(Effect.provide(CircuitBreaker.layerStoreMemory()))


    const counted = (row: ClaimedDelivery, outcome: string) =>
      Metric.update(Metric.withAttributes(deliveriesRecorded, { channel: row.channel, outcome }), 1)

    const record = Effect.fnUntraced(function*(row: ClaimedDelivery, outcome: SendOutcome) {
      const dies = outcome._tag === "Fail" || (outcome._tag === "Retry" && row.attempts >= config.maxAttempts)
      // A retry that used the last attempt, or a failure that will not be retried, is a dead letter.
      yield* counted(row, outcome._tag === "Sent" ? "sent" : outcome._tag === "Discard" ? "discarded" : dies ? "dead" : "retry")
      if (outcome._tag === "Sent") {
        const latency = Date.now() - DateTime.toEpochMillis(row.notification.createdAt)
        yield* Metric.update(Metric.withAttributes(deliveryLatency, { channel: row.channel }), latency)
        guard.window.deliveryLatencyOn(row.channel, latency)
        if (row.channel === "email") yield* Metric.update(Metric.withAttributes(emailsSent, { type: "immediate" }), 1)
      }
      switch (outcome._tag) {
        case "Sent": {
          const sends = yield* rows.markSent(row.id, outcome.providerId)
          if (sends > 1) {
            if (row.channel === "push") guard.window.duplicatePush()
            yield* Effect.logError("a delivery was sent more than once", { deliveryId: row.id, channel: row.channel, sends })
          }
          return
        }
        case "Retry":
          return yield* rows.markFailed(row.id, outcome.reason, outcome.retryAfter ?? retryDelay(config, row.attempts), config.maxAttempts)
        case "Fail":
          return yield* rows.markFailed(row.id, outcome.reason, Duration.zero, row.attempts)
        case "Discard": {
          if (row.channel === "push") yield* devices.unregister(row.notification.userId, row.target)
          return yield* rows.markDiscarded(row.id, outcome.reason)
        }
      }
    })

    // Everything failed and retryable: the provider is in trouble, which is what opens its circuit.
    const classify = (exit: Exit.Exit<ReadonlyArray<SendOutcome>>): CircuitBreaker.Outcome => {
      if (Exit.isFailure(exit)) return CircuitBreaker.failure()
      const outcomes = exit.value
      return outcomes.length > 0 && outcomes.every((o) => o._tag === "Retry")
        ? CircuitBreaker.failure()
        : CircuitBreaker.success
    }

    const guarded = (
      provider: string,
      batch: ReadonlyArray<ClaimedDelivery>,
      send: Effect.Effect<ReadonlyArray<SendOutcome>>
    ) =>
      send.pipe(
        breaker.execute({ key: provider, classify }),
        Effect.tap((outcomes) =>
          Effect.annotateCurrentSpan("herald.outcome", [...new Set(outcomes.map((o) => o._tag.toLowerCase()))].join(","))
        ),
        Effect.flatMap((outcomes) =>
          Effect.forEach(batch, (row, i) =>
            record(row, outcomes[i] ?? { _tag: "Retry", reason: `${provider} returned no outcome` }), { discard: true })
        ),
        Effect.catchTag("CircuitBreakerError", (error) => {
          const retryIn = error.reason._tag === "CircuitOpen" ? error.reason.retryAfter : Duration.seconds(1)
          return Effect.annotateCurrentSpan("herald.outcome", "circuit_open").pipe(
            Effect.andThen(Effect.forEach(batch, (row) => rows.release(row.id, retryIn, `${provider} circuit open`), { discard: true }))
          )
        })
      )

    // One span per send, continuing the notification's trace; the outcome is known after `record`.
    const traced = (channel: "push" | "email", batch: ReadonlyArray<ClaimedDelivery>) =>
    <A, E, R>(send: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
      const first = batch[0]
      if (first === undefined) return send
      return send.pipe(
        Effect.withSpan(`Delivery.${channel}`, {
          kind: "producer",
          attributes: {
            "herald.channel": channel,
            "herald.kind": first.notification.kind,
            "herald.user": hashUserId(first.notification.userId),
            "herald.attempt": first.attempts,
            "herald.targets": batch.length
          }
        }),
        continueTrace(first.traceParent)
      )
    }

    const sendPush = (batch: ReadonlyArray<ClaimedDelivery>) =>
      Option.match(channels.push, {
        onNone: () => Effect.forEach(batch, (row) => rows.markDiscarded(row.id, "push is not configured"), { discard: true }),
        onSome: (push) => {
          const first = batch[0]
          return first === undefined ? Effect.void : guarded("fcm", batch, push.send(first.notification, batch.map((row) => row.target)))
        }
      })

    const sendEmail = (row: ClaimedDelivery) =>
      Option.match(channels.email, {
        onNone: () => rows.markDiscarded(row.id, "email is not configured"),
        onSome: (email) => guarded("ses", [row], Effect.map(email.send(row.notification, row.target), (o) => [o]))
      })

    const sendClaimed = (channel: DeliveryChannel, claimed: ReadonlyArray<ClaimedDelivery>) => {
      if (channel === "email") {
        return Effect.forEach(claimed, (row) => traced("email", [row])(sendEmail(row)), { concurrency: 8, discard: true })
      }
      const pushByNotification = new Map<string, Array<ClaimedDelivery>>()
      for (const row of claimed) {
        const group = pushByNotification.get(row.notification.id)
        if (group === undefined) pushByNotification.set(row.notification.id, [row])
        else group.push(row)
      }
      return Effect.forEach(pushByNotification.values(), (batch) => traced("push", batch)(sendPush(batch)), {
        concurrency: 8,
        discard: true
      })
    }

    const drainChannel = (channel: DeliveryChannel) =>
      Effect.gen(function*() {
        const claimed = yield* rows.claim(channel, ClaimBatch, config.deliveryLease)
        yield* sendClaimed(channel, claimed)
        return claimed.length
      }).pipe(
        Effect.withSpan("DeliveryWorker.drainOnce", { attributes: { "herald.channel": channel } }),
        Effect.catchTag("StorageUnavailable", (error) =>
          Effect.logWarning(`${channel} delivery worker cannot reach the database`, error.message).pipe(Effect.as(0)))
      )

    const loops = yield* Effect.forEach(Loops, (channel) => Effect.map(Queue.sliding<void>(1), (wakeup) => ({ channel, wakeup })))
    const loop = (channel: DeliveryChannel, wakeup: Queue.Queue<void>) =>
      Effect.gen(function*() {
        while (true) {
          const handled = yield* drainChannel(channel)
          if (handled < ClaimBatch) {
            yield* Effect.raceFirst(Queue.take(wakeup), Effect.sleep(config.deliveryPoll))
          }
        }
      }).pipe(Effect.catchCause((cause) => Effect.logError(`${channel} delivery worker stopped`, Cause.pretty(cause))))
    yield* Effect.forEach(loops, ({ channel, wakeup }) => Effect.forkScoped(loop(channel, wakeup)), { discard: true })

    const drainOnce = Effect.map(
      Effect.forEach(Loops, drainChannel, { concurrency: "unbounded" }),
      (handled) => handled.reduce((sum, n) => sum + n, 0)
    )
    return DeliveryWorker.of({
      wake: Effect.forEach(loops, ({ wakeup }) => Queue.offer(wakeup, undefined), { discard: true }),
      drainOnce
    })
  }))
}
