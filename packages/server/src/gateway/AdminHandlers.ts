/**
 * Handlers of the admin RPC group (admin key only, at `/rpc/admin`).
 */
import { AdminRpcs } from "@herald/domain"
import { DateTime, Effect } from "effect"
import { DigestScheduler } from "../digest/DigestScheduler.ts"
import { DigestRepo } from "../storage/DigestRepo.ts"
import { UserRepo } from "../storage/UserRepo.ts"
import { DeliveryRepo } from "../storage/DeliveryRepo.ts"

const DefaultDeadLetterPage = 100

export const AdminHandlersLayer = AdminRpcs.AdminRpcs.toLayer(Effect.gen(function*() {
  const deliveries = yield* DeliveryRepo
  const digests = yield* DigestRepo
  const scheduler = yield* DigestScheduler
  const users = yield* UserRepo
  return AdminRpcs.AdminRpcs.of({
    PreviewDigest: Effect.fn("Rpc.PreviewDigest")(function*({ userId }) {
      const prefs = yield* users.preferences(userId)
      const { dueAt, items } = yield* digests.preview(userId)
      return new AdminRpcs.DigestPreview({
        userId,
        emailAddress: prefs.emailAddress,
        dueAt: dueAt === null || items.length === 0 ? null : DateTime.fromDateUnsafe(dueAt),
        items
      })
    }),
    SendDigestNow: Effect.fn("Rpc.SendDigestNow")(function*({ userId }) {
      const items = yield* digests.dueNow(userId, yield* DateTime.now)
      if (items > 0) yield* scheduler.wake
      return { items }
    }),
    ListDeadLetters: Effect.fn("Rpc.ListDeadLetters")(function*(query) {
      const items = yield* deliveries.deadLetters({
        userId: query.userId,
        channel: query.channel,
        limit: query.limit ?? DefaultDeadLetterPage
      })
      return { items }
    })
  })
}))
