/**
 * One `UserMailbox` entity per user (effect/cluster, sharded by user id).
 * Because an entity handles its messages one at a time, a user's
 * notifications are stored and fanned out in cursor order, from whichever
 * node owns the user's shard.
 *
 * Messages are volatile: the durable record is the notification row, written
 * before `Publish` replies, so a publish that returned success is never lost
 * and a retry with the same idempotency key stores nothing twice.
 */
import {
  type Notification,
  type NotificationKind,
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
import { FanoutBus } from "../fanout/FanoutBus.ts"
import { Channels } from "../channels/Channels.ts"
import { DeliveryWorker } from "../channels/DeliveryWorker.ts"
import { nextFire } from "../digest/DigestTime.ts"
import { NotificationRepo, type Route } from "../storage/NotificationRepo.ts"
import { UserRepo } from "../storage/UserRepo.ts"
import { duplicatesSuppressed, notificationsStored } from "../telemetry/Metrics.ts"

export const Publish = Rpc.make("Publish", {
  payload: { items: Schema.Array(NotifyItem) },
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

/** The JSON text of a notification frame, built once and written to every socket of the user. */
export const notificationFrameText = (notification: Notification): string =>
  JSON.stringify(encodeFrame(new Socket.NotificationFrame({ type: "notification", notification })))

export const UserMailboxLayer = UserMailbox.toLayer(
  Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const userId = UserId.make(address.entityId)
    const repo = yield* NotificationRepo
    const users = yield* UserRepo
    const bus = yield* FanoutBus
    const worker = yield* DeliveryWorker
    const channels = yield* Channels
    const pushOn = Option.isSome(channels.push)
    const emailOn = Option.isSome(channels.email)
    // The entity is the only writer of its user's preferences, so its copy is always current.
    let cached: Preferences | undefined
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
      Publish: Effect.fnUntraced(function*({ payload }) {
        const prefs = yield* currentPreferences
        const route = (kind: NotificationKind): Route => {
          const wanted = prefs.kinds[kind]
          return {
            inApp: wanted.inApp,
            push: wanted.push && pushOn,
            email: emailOn ? wanted.email : "off"
          }
        }
        const now = yield* DateTime.now
        const digestDueAt = () => new Date(nextFire(prefs.digest.schedule, prefs.digest.timeZone, DateTime.toEpochMillis(now)))
        const { deliveries, results, stored } = yield* repo.publish(userId, payload.items, route, digestDueAt)
        const acceptedAt = Date.now()
        if (deliveries > 0) yield* worker.wake
        yield* bus.publish(stored.filter((notification) => prefs.kinds[notification.kind].inApp).map((notification) => ({
          userId,
          cursor: notification.cursor,
          frame: notificationFrameText(notification),
          acceptedAt
        })))
        yield* Metric.update(notificationsStored, stored.length)
        if (results.length > stored.length) yield* Metric.update(duplicatesSuppressed, results.length - stored.length)
        return results
      })
    })
  }),
  { maxIdleTime: "5 minutes" }
)
