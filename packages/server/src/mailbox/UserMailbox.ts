/**
 * One `UserMailbox` entity per user (effect/cluster, sharded by user id): the
 * one writer of the user's preferences, wherever the change comes from (the
 * app's RPC, the user's own, an unsubscribe link). An entity handles its
 * messages one at a time, so two changes to one user's preferences apply in
 * turn, and its cached copy is always current.
 *
 * Publishes do not pass through it (`Publisher`): they read the preferences
 * the entity wrote from the store, so a change applies from the user's next
 * notification on.
 */
import { Preferences, PreferencesPatch, StorageUnavailable, UserId } from "@herald/domain"
import { Effect } from "effect"
import { Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { UserRepo } from "../storage/UserRepo.ts"

export const GetPreferences = Rpc.make("GetPreferences", {
  success: Preferences,
  error: StorageUnavailable
})

export const UpdatePreferences = Rpc.make("UpdatePreferences", {
  payload: { patch: PreferencesPatch },
  success: Preferences,
  error: StorageUnavailable
})

export const UserMailbox = Entity.make("UserMailbox", [GetPreferences, UpdatePreferences])

export const UserMailboxLayer = UserMailbox.toLayer(
  Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const userId = UserId.make(address.entityId)
    const users = yield* UserRepo
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
      })
    })
  }),
  { maxIdleTime: "5 minutes" }
)
