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
import { Notification, NotifyItem, NotifyResult, Socket, StorageUnavailable, UserId } from "@herald/domain"
import { Effect, Metric, Schema } from "effect"
import { Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { FanoutBus } from "../fanout/FanoutBus.ts"
import { NotificationRepo } from "../storage/NotificationRepo.ts"
import { duplicatesSuppressed, notificationsStored } from "../telemetry/Metrics.ts"

export const Publish = Rpc.make("Publish", {
  payload: { items: Schema.Array(NotifyItem) },
  success: Schema.Array(NotifyResult),
  error: StorageUnavailable
})

export const UserMailbox = Entity.make("UserMailbox", [Publish])

const encodeFrame = Schema.encodeSync(Socket.NotificationFrame)

/** The JSON text of a notification frame, built once and written to every socket of the user. */
export const notificationFrameText = (notification: Notification): string =>
  JSON.stringify(encodeFrame(new Socket.NotificationFrame({ type: "notification", notification })))

export const UserMailboxLayer = UserMailbox.toLayer(
  Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const userId = UserId.make(address.entityId)
    const repo = yield* NotificationRepo
    const bus = yield* FanoutBus
    return UserMailbox.of({
      Publish: Effect.fnUntraced(function*({ payload }) {
        const { results, stored } = yield* repo.publish(userId, payload.items)
        const acceptedAt = Date.now()
        yield* bus.publish(stored.map((notification) => ({
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
