/**
 * Publishing to a user, on whichever node the app called: route each item by
 * the rollout flag and the user's preferences, store the rows (batched with
 * other publishes by `NotificationWriter`), then put their frames on the
 * fan-out bus. The call answers once the rows are durable and the frames are
 * on the bus, so a publish that returned success is never lost and a retry
 * with the same idempotency key stores nothing twice.
 *
 * No per-user state lives in memory, so no node has to own a user to publish
 * to them. Order comes from the store: the insert takes the user's counter row
 * (a row lock), which gives cursors without gaps and the user's previous in-app
 * cursor, named by the first frame. Two nodes publishing to one user at once
 * may put their frames on the bus in either order; a socket that sees a frame
 * naming a previous cursor it has not sent catches up from the store, and
 * skips any frame at or below what it sent (`SocketGateway`).
 */
import {
  type Cursor,
  type Notification,
  type NotificationId,
  type NotifyItem,
  type NotifyResult,
  StorageUnavailable,
  type UserId
} from "@herald/domain"
import { type Cause, Context, DateTime, Duration, Effect, Exit, Fiber, Layer, Metric, Option } from "effect"
import { Channels } from "../channels/Channels.ts"
import { DeliveryWorker } from "../channels/DeliveryWorker.ts"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { nextFire } from "../digest/DigestTime.ts"
import { FanoutBus, type FanoutMessage } from "../fanout/FanoutBus.ts"
import { notificationFrameText } from "../fanout/NotificationFrames.ts"
import { newNotificationId } from "../gateway/NotificationIds.ts"
import { RolloutFlag } from "../rollout/RolloutFlag.ts"
import { RolloutGuard } from "../rollout/RolloutGuard.ts"
import { NotificationWriter, type PublishRequest } from "../storage/NotificationWriter.ts"
import { duplicatesSuppressed, notificationsStored } from "../telemetry/Metrics.ts"
import { currentTraceparent } from "../telemetry/TraceContext.ts"
import { hashUserId } from "../telemetry/UserHash.ts"

/** One user's items of a `Notify` call. */
export interface UserPublish {
  readonly userId: UserId
  readonly items: ReadonlyArray<NotifyItem>
}

export class Publisher extends Context.Service<Publisher, {
  /**
   * Stores every user's items (each user once, atomically) and answers once they are durable,
   * one array of results per user in the order given.
   */
  publish(users: ReadonlyArray<UserPublish>): Effect.Effect<ReadonlyArray<ReadonlyArray<NotifyResult>>, StorageUnavailable>
}>()("@herald/server/publish/Publisher") {
  static readonly layer = Layer.effect(Publisher, Effect.gen(function*() {
    const writer = yield* NotificationWriter
    const bus = yield* FanoutBus
    const worker = yield* DeliveryWorker
    const channels = yield* Channels
    const flag = yield* RolloutFlag
    const guard = yield* RolloutGuard
    const config = yield* HeraldConfig
    const scope = yield* Effect.scope
    const pushOn = Option.isSome(channels.push)
    const emailOn = Option.isSome(channels.email)

    // A whole call is one unit of work: one queueing of every user's publish with the writer,
    // one fan-out. Per-user work is plain code, not a fiber each.
    const storeAndFanOut = Effect.fn("Publisher.publish")(function*(users: ReadonlyArray<UserPublish>) {
      const [only] = users
      yield* Effect.annotateCurrentSpan({
        "herald.users": users.length,
        "herald.items": users.reduce((sum, { items }) => sum + items.length, 0),
        ...(users.length === 1 && only !== undefined ? { "herald.user": hashUserId(only.userId) } : {})
      })
      // Outside the rollout (or under the kill switch) a user gets what they had before
      // real-time notifications: an immediate email, nothing pushed or sent to sockets.
      // No stack trace captured for this span or the writer's batch: the names say where they
      // are, and the capture was 1.5 % of a busy server's CPU (docs/performance.md).
      const realtime = yield* Effect.forEach(users, ({ userId }) => flag.isEnabled(userId)).pipe(
        Effect.withSpan("Publisher.route", { attributes: { "herald.users": users.length } }, { captureStackTrace: false })
      )
      const trace = yield* currentTraceparent
      const now = DateTime.toEpochMillis(yield* DateTime.now)
      // The writer reads the preferences of its whole batch (many calls' users) in one statement.
      const routed = users.map(({ items, userId }, index): PublishRequest => ({
        userId,
        items: items.map((item) => ({ id: newNotificationId(), item })),
        routing: (prefs) => ({
          route: (kind) => {
            if (realtime[index] !== true) return { inApp: false, push: false, email: emailOn ? "immediate" : "off" }
            const wanted = prefs.kinds[kind]
            return { inApp: wanted.inApp, push: wanted.push && pushOn, email: emailOn ? wanted.email : "off" }
          },
          digestDueAt: () => new Date(nextFire(prefs.digest.schedule, prefs.digest.timeZone, now))
        }),
        traceParent: trace
      }))
      const published = yield* writer.publish(routed)
      const acceptedAt = Date.now()
      const frames: Array<FanoutMessage> = []
      const accepted: Array<NotificationId> = []
      let deliveries = 0
      let stored = 0
      let suppressed = 0
      // Users whose rows were stored are fanned out even when another user's statement failed.
      const failures: Array<Cause.Cause<StorageUnavailable>> = []
      const answers: Array<ReadonlyArray<NotifyResult>> = []
      for (const exit of published) {
        if (Exit.isFailure(exit)) {
          failures.push(exit.cause)
          continue
        }
        const outcome = exit.value
        answers.push(outcome.results)
        const toSockets = (notification: Notification) => outcome.route(notification.kind).inApp
        // Rows an earlier publish stored under the same key may never have been fanned out (its
        // node died first): each goes out again naming itself as the previous one, so sockets
        // that lack it catch up from the store and the others skip it.
        for (const notification of [...outcome.resent, ...outcome.duplicates]) {
          if (toSockets(notification)) frames.push(fanoutMessage(notification, notification.cursor, acceptedAt, trace))
        }
        let previous = outcome.previousInApp
        for (const notification of outcome.stored) {
          accepted.push(notification.id)
          if (toSockets(notification)) {
            frames.push(fanoutMessage(notification, previous, acceptedAt, trace))
            previous = notification.cursor
          }
        }
        deliveries += outcome.deliveries
        stored += outcome.stored.length
        suppressed += outcome.results.length - outcome.stored.length - outcome.resent.length
      }
      yield* bus.publish(frames)
      guard.accepted(accepted)
      if (deliveries > 0) yield* worker.wake
      yield* Metric.update(notificationsStored, stored)
      if (suppressed > 0) yield* Metric.update(duplicatesSuppressed, suppressed)
      // The call fails as a whole: a retry with the same keys gets the stored ones back deduplicated.
      const [failure] = failures
      if (failure !== undefined) return yield* Effect.failCause(failure)
      return answers
    })

    // The store and the fan-out run in a fiber of their own, uninterrupted: a caller that
    // times out or goes away must not leave stored rows whose frames were never sent.
    // The timeout bounds what the caller waits while the database is away.
    const publish = (users: ReadonlyArray<UserPublish>) =>
      Effect.uninterruptible(storeAndFanOut(users)).pipe(
        Effect.forkIn(scope),
        Effect.flatMap(Fiber.join),
        Effect.timeoutOrElse({
          duration: config.publishTimeout,
          orElse: () =>
            Effect.fail(
              new StorageUnavailable({
                message: `the publish was not stored within ${Duration.format(config.publishTimeout)} ` +
                  "(database slow or unreachable); retry with the same idempotency keys",
                retryable: true
              })
            )
        })
      )

    return Publisher.of({ publish })
  }))
}

const fanoutMessage = (
  notification: Notification,
  previous: Cursor,
  acceptedAt: number,
  trace: string | null
): FanoutMessage => ({
  userId: notification.userId,
  cursor: notification.cursor,
  previous,
  frame: notificationFrameText(notification),
  acceptedAt,
  kind: notification.kind,
  trace
})
