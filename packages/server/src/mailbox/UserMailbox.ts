/**
 * One `UserMailbox` entity per user (effect/cluster, sharded by user id).
 * Because an entity handles its messages one at a time, a user's
 * notifications are stored and fanned out in cursor order, from whichever
 * node owns the user's shard.
 *
 * Messages are volatile: the durable record is the notification row, written
 * before `Publish` replies, so a publish that returned success is never lost
 * and a retry with the same idempotency key stores nothing twice. When the
 * node holding the entity dies mid-publish, effect/cluster sends the same
 * message again to the shard's next owner; the gateway-assigned ids make that
 * resend store nothing twice either, and its frames go out again.
 *
 * Each frame carries the cursor of the user's previous in-app notification,
 * so a socket that missed a frame (a node died between storing and fanning
 * out, or Redis dropped it) notices at the next one and catches up from the
 * store. The entity keeps that cursor in memory and reloads it after any
 * failed publish, when the store may hold rows it did not see commit.
 */
import {
  type Cursor,
  type Notification,
  type NotificationKind,
  NotificationId,
  NotifyItem,
  NotifyResult,
  Preferences,
  PreferencesPatch,
  Socket,
  StorageUnavailable,
  UserId
} from "@herald/domain"
import { DateTime, Effect, Metric, Option, Schema } from "effect"
import { Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { FanoutBus, type FanoutMessage } from "../fanout/FanoutBus.ts"
import { Channels } from "../channels/Channels.ts"
import { DeliveryWorker } from "../channels/DeliveryWorker.ts"
import { nextFire } from "../digest/DigestTime.ts"
import { RolloutFlag } from "../rollout/RolloutFlag.ts"
import { RolloutGuard } from "../rollout/RolloutGuard.ts"
import { currentTraceparent } from "../telemetry/TraceContext.ts"
import { hashUserId } from "../telemetry/UserHash.ts"
import { NotificationRepo } from "../storage/NotificationRepo.ts"
import { NotificationWriter } from "../storage/NotificationWriter.ts"
import type { Route } from "../storage/PublishPlan.ts"
import { UserRepo } from "../storage/UserRepo.ts"
import { duplicatesSuppressed, notificationsStored } from "../telemetry/Metrics.ts"

/** An item with the id its gateway gave it: a resend after a node died is then recognised by id. */
export const PublishEntry = Schema.Struct({ id: NotificationId, item: NotifyItem })

export const Publish = Rpc.make("Publish", {
  payload: { items: Schema.Array(PublishEntry) },
  success: Schema.Array(NotifyResult),
  error: StorageUnavailable
})

export const GetPreferences = Rpc.make("GetPreferences", {
  success: Preferences,
  error: StorageUnavailable
})

export const UpdatePreferences = Rpc.make("UpdatePreferences", {
  payload: { patch: PreferencesPatch },
  success: Preferences,
  error: StorageUnavailable
})

export const UserMailbox = Entity.make("UserMailbox", [Publish, GetPreferences, UpdatePreferences])

const encodeFrame = Schema.encodeSync(Socket.NotificationFrame)

const fanoutMessage = (
  userId: UserId,
  notification: Notification,
  previous: Cursor,
  acceptedAt: number,
  trace: string | null
): FanoutMessage => ({
  userId,
  cursor: notification.cursor,
  previous,
  frame: notificationFrameText(notification),
  acceptedAt,
  kind: notification.kind,
  trace
})

/** The JSON text of a notification frame, built once and written to every socket of the user (the notification is a stored row: not checked again). */
export const notificationFrameText = (notification: Notification): string =>
  JSON.stringify(encodeFrame(new Socket.NotificationFrame({ type: "notification", notification }, { disableChecks: true })))

/** The JSON text of a replayed notification frame (an operator's replay, outside cursor order). */
export const replayFrameText = (notification: Notification): string =>
  JSON.stringify(encodeFrame(new Socket.NotificationFrame({ type: "notification", notification, replayed: true }, { disableChecks: true })))

export const UserMailboxLayer = UserMailbox.toLayer(
  Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const userId = UserId.make(address.entityId)
    const repo = yield* NotificationRepo
    const writer = yield* NotificationWriter
    const users = yield* UserRepo
    const bus = yield* FanoutBus
    const worker = yield* DeliveryWorker
    const channels = yield* Channels
    const flag = yield* RolloutFlag
    const userHash = hashUserId(userId)
    const guard = yield* RolloutGuard
    const pushOn = Option.isSome(channels.push)
    const emailOn = Option.isSome(channels.email)
    // The entity is the only writer of its user's preferences, so its copy is always current.
    let cached: Preferences | undefined
    let lastInApp: Cursor | undefined
    const previousInApp = Effect.suspend(() =>
      lastInApp !== undefined
        ? Effect.succeed(lastInApp)
        : repo.latestInAppCursor(userId).pipe(Effect.tap((loaded) => Effect.sync(() => (lastInApp = loaded))))
    )
    const currentPreferences = Effect.suspend(() =>
      cached !== undefined
        ? Effect.succeed(cached)
        : users.preferences(userId).pipe(Effect.tap((loaded) => Effect.sync(() => (cached = loaded))))
    )

    return UserMailbox.of({
      GetPreferences: () => currentPreferences,
      UpdatePreferences: Effect.fnUntraced(function*({ payload }) {
        const updated = yield* users.updatePreferences(userId, payload.patch)
        cached = updated
        return updated
      }),
      Publish: Effect.fn("Mailbox.publish")(function*({ payload }) {
        yield* Effect.annotateCurrentSpan({ "herald.user": userHash, "herald.items": payload.items.length })
        const prefs = yield* currentPreferences
        // Outside the rollout (or under the kill switch) a user gets what they had before
        // real-time notifications: an immediate email, nothing pushed or sent to sockets.
        const realtime = yield* flag.isEnabled(userId).pipe(
          Effect.tap((on) => Effect.annotateCurrentSpan({ "herald.realtime": on })),
          Effect.withSpan("Mailbox.route", { attributes: { "herald.user": userHash } })
        )
        const route = (kind: NotificationKind): Route => {
          if (!realtime) return { inApp: false, push: false, email: emailOn ? "immediate" : "off" }
          const wanted = prefs.kinds[kind]
          return {
            inApp: wanted.inApp,
            push: wanted.push && pushOn,
            email: emailOn ? wanted.email : "off"
          }
        }
        const trace = yield* currentTraceparent
        const now = yield* DateTime.now
        const digestDueAt = () => new Date(nextFire(prefs.digest.schedule, prefs.digest.timeZone, DateTime.toEpochMillis(now)))
        const previous = yield* previousInApp
        // From the store to the fan-out nothing may interrupt it (a caller's timeout, say): a
        // stored notification whose frames were skipped would leave this entity's idea of the
        // previous in-app cursor behind, and sockets would not notice the frame they missed.
        const { deliveries, results, resent, stored } = yield* Effect.uninterruptible(Effect.gen(function*() {
          const published = yield* writer.publish({ userId, items: payload.items, route, digestDueAt, traceParent: trace }).pipe(
            Effect.tapError(() => Effect.sync(() => (lastInApp = undefined)))
          )
          const acceptedAt = Date.now()
          const frames: Array<FanoutMessage> = []
          // Rows stored earlier (by an attempt whose reply was lost, or under the same key) may
          // never have been fanned out: each goes out again naming itself as the previous one,
          // so sockets that lack it catch up from the store and the others skip it.
          for (const notification of [...published.resent, ...published.duplicates]) {
            if (realtime && prefs.kinds[notification.kind].inApp) {
              frames.push(fanoutMessage(userId, notification, notification.cursor, acceptedAt, trace))
            }
          }
          let last = previous
          for (const notification of published.stored) {
            if (realtime && prefs.kinds[notification.kind].inApp) {
              frames.push(fanoutMessage(userId, notification, last, acceptedAt, trace))
              last = notification.cursor
            }
          }
          lastInApp = last
          yield* bus.publish(frames)
          return published
        }))
        guard.accepted(stored.map((notification) => notification.id))
        if (deliveries > 0) yield* worker.wake
        yield* Metric.update(notificationsStored, stored.length)
        const suppressed = results.length - stored.length - resent.length
        if (suppressed > 0) yield* Metric.update(duplicatesSuppressed, suppressed)
        return results
      })
    })
  }),
  { maxIdleTime: "5 minutes" }
)
