/**
 * Handlers of the app-facing RPC group (`/rpc`, API key). Each call names
 * its user; the work is `UserOperations`', which `/rpc/me` shares, and for
 * `Notify` `Publisher`'s, which takes the whole batch grouped per user.
 */
import { AppRpcs, type NotifyItem, type NotifyResult, type UserId } from "@herald/domain"
import { Effect } from "effect"
import { ClientTokens } from "./ClientTokens.ts"
import { UserOperations } from "./UserOperations.ts"
import { Publisher } from "../publish/Publisher.ts"

const DefaultTokenTtlSeconds = 3600

export const AppHandlersLayer = AppRpcs.AppRpcs.toLayer(Effect.gen(function*() {
  const tokens = yield* ClientTokens
  const users = yield* UserOperations
  const publisher = yield* Publisher

  const notify = Effect.fn("Herald.notify")(function*(items: ReadonlyArray<NotifyItem>) {
    yield* Effect.annotateCurrentSpan({ "herald.items": items.length })
    // Items are grouped per user (the writer stores each user's items atomically, and many users'
    // in one statement), then answered in the caller's order.
    const groups = new Map<UserId, Array<number>>()
    items.forEach((item, index) => {
      const group = groups.get(item.userId)
      if (group === undefined) groups.set(item.userId, [index])
      else group.push(index)
    })
    const grouped = [...groups]
    const answers = yield* publisher.publish(
      grouped.map(([userId, indices]) => ({ userId, items: indices.flatMap((index) => items[index] ?? []) }))
    )
    const results: Array<NotifyResult> = []
    grouped.forEach(([, indices], group) =>
      answers[group]?.forEach((answer, i) => {
        const index = indices[i]
        if (index !== undefined) results[index] = answer
      })
    )
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
