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
  type NotificationKind,
  type Notification,
  type NotifyItem,
  type NotifyResult,
  StorageUnavailable,
  type UserId
} from "@herald/domain"
import { Context, DateTime, Duration, Effect, Fiber, Layer, Metric, Option } from "effect"
import { Channels } from "../channels/Channels.ts"
import { DeliveryWorker } from "../channels/DeliveryWorker.ts"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { nextFire } from "../digest/DigestTime.ts"
import { FanoutBus, type FanoutMessage } from "../fanout/FanoutBus.ts"
import { notificationFrameText } from "../fanout/NotificationFrames.ts"
import { newNotificationId } from "../gateway/NotificationIds.ts"
import { RolloutFlag } from "../rollout/RolloutFlag.ts"
import { RolloutGuard } from "../rollout/RolloutGuard.ts"
import { NotificationWriter } from "../storage/NotificationWriter.ts"
import type { Route } from "../storage/PublishPlan.ts"
import { UserRepo } from "../storage/UserRepo.ts"
import { duplicatesSuppressed, notificationsStored } from "../telemetry/Metrics.ts"
import { currentTraceparent } from "../telemetry/TraceContext.ts"
import { hashUserId } from "../telemetry/UserHash.ts"

export class Publisher extends Context.Service<Publisher, {
  /** Stores the items for the user (one statement) and answers once they are durable, in the items' order. */
  publish(userId: UserId, items: ReadonlyArray<NotifyItem>): Effect.Effect<ReadonlyArray<NotifyResult>, StorageUnavailable>
}>()("@herald/server/publish/Publisher") {
  static readonly layer = Layer.effect(Publisher, Effect.gen(function*() {
    const writer = yield* NotificationWriter
    const users = yield* UserRepo
    const bus = yield* FanoutBus
    const worker = yield* DeliveryWorker
    const channels = yield* Channels
    const flag = yield* RolloutFlag
    const guard = yield* RolloutGuard
    const config = yield* HeraldConfig
    const scope = yield* Effect.scope
    const pushOn = Option.isSome(channels.push)
    const emailOn = Option.isSome(channels.email)

    const storeAndFanOut = Effect.fn("Publisher.publish")(function*(userId: UserId, items: ReadonlyArray<NotifyItem>) {
      const userHash = hashUserId(userId)
      yield* Effect.annotateCurrentSpan({ "herald.user": userHash, "herald.items": items.length })
      const prefs = yield* users.preferences(userId)
      // Outside the rollout (or under the kill switch) a user gets what they had before
      // real-time notifications: an immediate email, nothing pushed or sent to sockets.
      const realtime = yield* flag.isEnabled(userId).pipe(
        Effect.tap((on) => Effect.annotateCurrentSpan({ "herald.realtime": on })),
        Effect.withSpan("Publisher.route", { attributes: { "herald.user": userHash } })
      )
      const route = (kind: NotificationKind): Route => {
        if (!realtime) return { inApp: false, push: false, email: emailOn ? "immediate" : "off" }
        const wanted = prefs.kinds[kind]
        return { inApp: wanted.inApp, push: wanted.push && pushOn, email: emailOn ? wanted.email : "off" }
      }
      const trace = yield* currentTraceparent
      const now = yield* DateTime.now
      const digestDueAt = () => new Date(nextFire(prefs.digest.schedule, prefs.digest.timeZone, DateTime.toEpochMillis(now)))
      const published = yield* writer.publish({
        userId,
        items: items.map((item) => ({ id: newNotificationId(), item })),
        route,
        digestDueAt,
        traceParent: trace
      })
      const acceptedAt = Date.now()
      const toSockets = (notification: Notification) => realtime && prefs.kinds[notification.kind].inApp
      const frames: Array<FanoutMessage> = []
      // Rows an earlier publish stored under the same key may never have been fanned out (its
      // node died first): each goes out again naming itself as the previous one, so sockets
      // that lack it catch up from the store and the others skip it.
      for (const notification of [...published.resent, ...published.duplicates]) {
        if (toSockets(notification)) frames.push(fanoutMessage(notification, notification.cursor, acceptedAt, trace))
      }
      let previous = published.previousInApp
      for (const notification of published.stored) {
        if (toSockets(notification)) {
          frames.push(fanoutMessage(notification, previous, acceptedAt, trace))
          previous = notification.cursor
        }
      }
      yield* bus.publish(frames)
      guard.accepted(published.stored.map((notification) => notification.id))
      if (published.deliveries > 0) yield* worker.wake
      yield* Metric.update(notificationsStored, published.stored.length)
      const suppressed = published.results.length - published.stored.length - published.resent.length
      if (suppressed > 0) yield* Metric.update(duplicatesSuppressed, suppressed)
      return published.results
    })

    // The store and the fan-out run in a fiber of their own, uninterrupted: a caller that
    // times out or goes away must not leave stored rows whose frames were never sent.
    // The timeout bounds what the caller waits while the database is away.
    const publish = (userId: UserId, items: ReadonlyArray<NotifyItem>) =>
      Effect.uninterruptible(storeAndFanOut(userId, items)).pipe(
        Effect.forkIn(scope),
        Effect.flatMap(Fiber.join),
        Effect.timeoutOrElse({
          duration: config.publishTimeout,
          orElse: () =>
            Effect.fail(
              new StorageUnavailable({
                message: `the publish to ${userId} was not stored within ${Duration.format(config.publishTimeout)} ` +
                  "(database slow or unreachable); retry with the same idempotency key",
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
