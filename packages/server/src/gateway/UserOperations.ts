/**
 * Everything Herald does for one user on request but publishing (that is
 * `Publisher`'s, for a whole `Notify` batch): read and mark their inbox, read
 * and change their preferences, manage their devices.
 * The app handlers (`/rpc`, the user named in the payload) and the user
 * handlers (`/rpc/me`, the user of the client token) both call these, so the
 * two APIs cannot drift apart.
 *
 * Preferences go through the user's mailbox entity, the one writer of a user's preferences,
 * which caches them. Inbox and device reads go straight to the repositories.
 */
import {
  type Cursor,
  type Device,
  type Notification,
  NotificationId,
  type Platform,
  type Preferences,
  type PreferencesPatch,
  StorageUnavailable,
  type UserId
} from "@herald/domain"
import { Context, Effect, Layer } from "effect"
import type { AlreadyProcessingMessage, EntityNotAssignedToRunner, MailboxFull, PersistenceError } from "effect/cluster/ClusterError"
import { UserMailbox } from "../mailbox/UserMailbox.ts"
import { DeviceRepo } from "../storage/DeviceRepo.ts"
import { NotificationRepo } from "../storage/NotificationRepo.ts"

type ClusterError = MailboxFull | AlreadyProcessingMessage | PersistenceError | EntityNotAssignedToRunner

const DefaultInboxPage = 50

export interface InboxQuery {
  readonly unreadOnly?: boolean
  /** Only notifications with a cursor below this one. */
  readonly before?: Cursor
  readonly limit?: number
}

export interface InboxPage {
  readonly items: ReadonlyArray<Notification>
  /** The `before` of the next (older) page; null on the last one. */
  readonly nextBefore: Cursor | null
}

export class UserOperations extends Context.Service<UserOperations, {
  /** A page of the inbox, newest first (50 unless `limit` says otherwise). */
  inbox(userId: UserId, query: InboxQuery): Effect.Effect<InboxPage, StorageUnavailable>
  unreadCount(userId: UserId): Effect.Effect<{ readonly count: number }, StorageUnavailable>
  /** Marks the user's notifications among `ids` read; others' ids change nothing. */
  markRead(userId: UserId, ids: ReadonlyArray<NotificationId>): Effect.Effect<{ readonly updated: number }, StorageUnavailable>
  markAllRead(userId: UserId): Effect.Effect<{ readonly updated: number }, StorageUnavailable>
  preferences(userId: UserId): Effect.Effect<Preferences, StorageUnavailable>
  updatePreferences(userId: UserId, patch: PreferencesPatch): Effect.Effect<Preferences, StorageUnavailable>
  registerDevice(userId: UserId, token: string, platform: Platform): Effect.Effect<Device, StorageUnavailable>
  /** `removed` is false when the token was not the user's. */
  unregisterDevice(userId: UserId, token: string): Effect.Effect<{ readonly removed: boolean }, StorageUnavailable>
  devices(userId: UserId): Effect.Effect<{ readonly devices: ReadonlyArray<Device> }, StorageUnavailable>
}>()("@herald/server/gateway/UserOperations") {
  static readonly layer = Layer.effect(UserOperations, Effect.gen(function*() {
    const repo = yield* NotificationRepo
    const deviceRepo = yield* DeviceRepo
    const mailbox = yield* UserMailbox.client

    const clusterErrors = <A>(userId: UserId, effect: Effect.Effect<A, StorageUnavailable | ClusterError>) =>
      effect.pipe(
        Effect.catchTags({
          MailboxFull: () => Effect.fail(new StorageUnavailable({ message: `the mailbox of ${userId} is full; retry shortly`, retryable: true })),
          AlreadyProcessingMessage: () => Effect.fail(new StorageUnavailable({ message: "the publish is already being processed; retry with the same idempotency key", retryable: true })),
          PersistenceError: (error) => Effect.fail(new StorageUnavailable({ message: `cluster storage error: ${error.message}`, retryable: true })),
          EntityNotAssignedToRunner: () => Effect.fail(new StorageUnavailable({ message: "the user's shard is moving between nodes; retry shortly", retryable: true }))
        })
      )

    const inbox = Effect.fn("UserOperations.inbox")(function*(userId: UserId, query: InboxQuery) {
      const limit = query.limit ?? DefaultInboxPage
      const items = yield* repo.inbox({ userId, unreadOnly: query.unreadOnly ?? false, before: query.before, limit })
      const last = items.at(-1)
      return { items, nextBefore: items.length === limit && last !== undefined ? last.cursor : null }
    })

    return UserOperations.of({
      inbox,
      unreadCount: Effect.fn("UserOperations.unreadCount")(function*(userId: UserId) {
        return { count: yield* repo.unreadCount(userId) }
      }),
      markRead: Effect.fn("UserOperations.markRead")(function*(userId: UserId, ids: ReadonlyArray<NotificationId>) {
        return { updated: yield* repo.markRead(userId, ids) }
      }),
      markAllRead: Effect.fn("UserOperations.markAllRead")(function*(userId: UserId) {
        return { updated: yield* repo.markAllRead(userId) }
      }),
      preferences: Effect.fn("UserOperations.preferences")(function*(userId: UserId) {
        return yield* clusterErrors(userId, mailbox(userId).GetPreferences())
      }),
      updatePreferences: Effect.fn("UserOperations.updatePreferences")(function*(userId: UserId, patch: PreferencesPatch) {
        return yield* clusterErrors(userId, mailbox(userId).UpdatePreferences({ patch }))
      }),
      registerDevice: Effect.fn("UserOperations.registerDevice")(function*(userId: UserId, token: string, platform: Platform) {
        return yield* deviceRepo.register(userId, token, platform)
      }),
      unregisterDevice: Effect.fn("UserOperations.unregisterDevice")(function*(userId: UserId, token: string) {
        return { removed: yield* deviceRepo.unregister(userId, token) }
      }),
      devices: Effect.fn("UserOperations.devices")(function*(userId: UserId) {
        return { devices: yield* deviceRepo.list(userId) }
      })
    })
  }))
}
