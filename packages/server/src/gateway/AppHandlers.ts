/**
 * Handlers of the app-facing RPC group (`/rpc`, API key). Each call names
 * its user; the work is `UserOperations`', which `/rpc/me` shares. `Notify`
 * groups a batch per user, one publish each.
 */
import { AppRpcs, type NotifyItem, type NotifyResult, type UserId } from "@herald/domain"
import { Effect } from "effect"
import { ClientTokens } from "./ClientTokens.ts"
import { UserOperations } from "./UserOperations.ts"

const DefaultTokenTtlSeconds = 3600

export const AppHandlersLayer = AppRpcs.AppRpcs.toLayer(Effect.gen(function*() {
  const tokens = yield* ClientTokens
  const users = yield* UserOperations

  const notify = Effect.fn("Herald.notify")(function*(items: ReadonlyArray<NotifyItem>) {
    yield* Effect.annotateCurrentSpan({ "herald.items": items.length })
    // Items are grouped per user (one publish each; the writer stores many users' publishes
    // in one statement, so more of them at once make larger batches), then answered in the caller's order.
    const groups = new Map<UserId, Array<number>>()
    items.forEach((item, index) => {
      const group = groups.get(item.userId)
      if (group === undefined) groups.set(item.userId, [index])
      else group.push(index)
    })
    const results: Array<NotifyResult> = []
    yield* Effect.forEach(groups, ([userId, indices]) =>
      users.publish(userId, indices.flatMap((index) => items[index] ?? [])).pipe(
        Effect.map((answers) => answers.forEach((answer, i) => {
          const index = indices[i]
          if (index !== undefined) results[index] = answer
        }))
      ), { concurrency: 128, discard: true })
    return { results }
  })

  return AppRpcs.AppRpcs.of({
    // A caller's trace (its RPC span, or a W3C `traceparent` header) is continued by effect's
    // HTTP server and RPC layers, so `Herald.notify` and all below join it.
    Notify: ({ items }) => notify(items),
    ListInbox: ({ userId, ...query }) => users.inbox(userId, query),
    UnreadCount: ({ userId }) => users.unreadCount(userId),
    MarkRead: ({ userId, ids }) => users.markRead(userId, ids),
    MarkAllRead: ({ userId }) => users.markAllRead(userId),
    IssueClientToken: Effect.fn("Rpc.IssueClientToken")(function*({ userId, ttlSeconds }) {
      return yield* tokens.issue(userId, ttlSeconds ?? DefaultTokenTtlSeconds)
    }),
    GetPreferences: ({ userId }) => users.preferences(userId),
    UpdatePreferences: ({ userId, patch }) => users.updatePreferences(userId, patch),
    RegisterDevice: ({ userId, token, platform }) => users.registerDevice(userId, token, platform),
    UnregisterDevice: ({ userId, token }) => users.unregisterDevice(userId, token),
    ListDevices: ({ userId }) => users.devices(userId)
  })
}))
