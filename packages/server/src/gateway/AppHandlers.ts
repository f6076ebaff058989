/**
 * Handlers of the app-facing RPC group. `Notify` routes each user's items to
 * that user's mailbox entity; reads go straight to the repository.
 */
import { AppRpcs, NotificationId, type NotifyItem, type NotifyResult, StorageUnavailable, type UserId } from "@herald/domain"
import { Duration, Effect } from "effect"
import { SecureRandom } from "effect/crypto"
import type { AlreadyProcessingMessage, EntityNotAssignedToRunner, MailboxFull, PersistenceError } from "effect/cluster/ClusterError"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { UserMailbox } from "../mailbox/UserMailbox.ts"
import { DeviceRepo } from "../storage/DeviceRepo.ts"
import { NotificationRepo } from "../storage/NotificationRepo.ts"
import { ClientTokens } from "./ClientTokens.ts"

type ClusterError = MailboxFull | AlreadyProcessingMessage | PersistenceError | EntityNotAssignedToRunner

const DefaultTokenTtlSeconds = 3600
const DefaultInboxPage = 50

export const AppHandlersLayer = AppRpcs.AppRpcs.toLayer(Effect.gen(function*() {
  const repo = yield* NotificationRepo
  const tokens = yield* ClientTokens
  const devices = yield* DeviceRepo
  const mailbox = yield* UserMailbox.client
  const config = yield* HeraldConfig

  const clusterErrors = <A>(userId: UserId, effect: Effect.Effect<A, StorageUnavailable | ClusterError>) =>
    effect.pipe(
      Effect.catchTags({
        MailboxFull: () => Effect.fail(new StorageUnavailable({ message: `the mailbox of ${userId} is full; retry shortly`, retryable: true })),
        AlreadyProcessingMessage: () => Effect.fail(new StorageUnavailable({ message: "the publish is already being processed; retry with the same idempotency key", retryable: true })),
        PersistenceError: (error) => Effect.fail(new StorageUnavailable({ message: `cluster storage error: ${error.message}`, retryable: true })),
        EntityNotAssignedToRunner: () => Effect.fail(new StorageUnavailable({ message: "the user's shard is moving between nodes; retry shortly", retryable: true }))
      })
    )

  // Ids are given here, once: if the node holding the user's mailbox dies mid-publish, the
  // cluster resends the same message to the next owner, which recognises the ids.
  // The timeout bounds what the caller waits while the database is away or the user's shard
  // has no live owner yet; the cluster would otherwise retry until it has one.
  const publishFor = (userId: UserId, items: ReadonlyArray<NotifyItem>) =>
    clusterErrors(
      userId,
      mailbox(userId).Publish({
        items: items.map((item) => ({ id: NotificationId.make(SecureRandom.uuidV7Unsafe()), item }))
      })
    ).pipe(
      Effect.timeoutOrElse({
        duration: config.publishTimeout,
        orElse: () =>
          Effect.fail(
            new StorageUnavailable({
              message: `no answer from ${userId}'s mailbox within ${Duration.format(config.publishTimeout)} ` +
                "(database unreachable or the user's node failing over); retry with the same idempotency key",
              retryable: true
            })
          )
      })
    )

  const notify = Effect.fn("Herald.notify")(function*(items: ReadonlyArray<NotifyItem>) {
    yield* Effect.annotateCurrentSpan({ "herald.items": items.length })
    // Items are grouped per user (one transaction each), then answered in the caller's order.
    const groups = new Map<UserId, Array<number>>()
    items.forEach((item, index) => {
      const group = groups.get(item.userId)
      if (group === undefined) groups.set(item.userId, [index])
      else group.push(index)
    })
    const results: Array<NotifyResult> = []
    yield* Effect.forEach(groups, ([userId, indices]) =>
      publishFor(userId, indices.flatMap((index) => items[index] ?? [])).pipe(
        Effect.map((answers) => answers.forEach((answer, i) => {
          const index = indices[i]
          if (index !== undefined) results[index] = answer
        }))
      ), { concurrency: 16, discard: true })
    return { results }
  })

  return AppRpcs.AppRpcs.of({
    // A caller's trace (its RPC span, or a W3C `traceparent` header) is continued by effect's
    // HTTP server and RPC layers, so `Herald.notify` and all below join it.
    Notify: ({ items }) => notify(items),
    ListInbox: Effect.fn("Rpc.ListInbox")(function*(query) {
      const limit = query.limit ?? DefaultInboxPage
      const items = yield* repo.inbox({
        userId: query.userId,
        unreadOnly: query.unreadOnly ?? false,
        before: query.before,
        limit
      })
      const last = items.at(-1)
      return { items, nextBefore: items.length === limit && last !== undefined ? last.cursor : null }
    }),
    UnreadCount: Effect.fn("Rpc.UnreadCount")(function*({ userId }) {
      return { count: yield* repo.unreadCount(userId) }
    }),
    MarkRead: Effect.fn("Rpc.MarkRead")(function*({ userId, ids }) {
      return { updated: yield* repo.markRead(userId, ids) }
    }),
    MarkAllRead: Effect.fn("Rpc.MarkAllRead")(function*({ userId }) {
      return { updated: yield* repo.markAllRead(userId) }
    }),
    IssueClientToken: Effect.fn("Rpc.IssueClientToken")(function*({ userId, ttlSeconds }) {
      return yield* tokens.issue(userId, ttlSeconds ?? DefaultTokenTtlSeconds)
    }),
    // Preferences go through the user's entity, which caches them for routing.
    GetPreferences: Effect.fn("Rpc.GetPreferences")(function*({ userId }) {
      return yield* clusterErrors(userId, mailbox(userId).GetPreferences())
    }),
    UpdatePreferences: Effect.fn("Rpc.UpdatePreferences")(function*({ userId, patch }) {
      return yield* clusterErrors(userId, mailbox(userId).UpdatePreferences({ patch }))
    }),
    RegisterDevice: Effect.fn("Rpc.RegisterDevice")(function*({ userId, token, platform }) {
      return yield* devices.register(userId, token, platform)
    }),
    UnregisterDevice: Effect.fn("Rpc.UnregisterDevice")(function*({ userId, token }) {
      return { removed: yield* devices.unregister(userId, token) }
    }),
    ListDevices: Effect.fn("Rpc.ListDevices")(function*({ userId }) {
      return { devices: yield* devices.list(userId) }
    })
  })
}))
