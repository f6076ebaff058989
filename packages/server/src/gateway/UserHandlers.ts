/**
 * Handlers of the user-scoped RPC group (`/rpc/me`, client token). The user
 * is `CurrentUser`, the verified subject of the token (`UserAuthentication`
 * provides it); no payload names one, so nothing here can reach another
 * user's data. The work is `UserOperations`', the same the app API does.
 */
import { UserRpcs } from "@herald/domain"
import { Effect } from "effect"
import { UserOperations } from "./UserOperations.ts"

const { CurrentUser } = UserRpcs

export const UserHandlersLayer = UserRpcs.UserRpcs.toLayer(Effect.gen(function*() {
  const users = yield* UserOperations
  const forUser = <A, E, R>(f: (userId: UserRpcs.CurrentUser["Service"]["userId"]) => Effect.Effect<A, E, R>) =>
    Effect.flatMap(CurrentUser, ({ userId }) => f(userId))

  return UserRpcs.UserRpcs.of({
    ListInbox: (query) => forUser((userId) => users.inbox(userId, query)),
    UnreadCount: () => forUser(users.unreadCount),
    MarkRead: ({ ids }) => forUser((userId) => users.markRead(userId, ids)),
    MarkAllRead: () => forUser(users.markAllRead),
    GetPreferences: () => forUser(users.preferences),
    UpdatePreferences: ({ patch }) => forUser((userId) => users.updatePreferences(userId, patch)),
    ListDevices: () => forUser(users.devices),
    UnregisterDevice: ({ token }) => forUser((userId) => users.unregisterDevice(userId, token))
  })
}))
