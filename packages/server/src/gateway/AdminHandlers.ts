/**
 * Handlers of the admin RPC group (admin key only, at `/rpc/admin`).
 */
import { AdminRpcs } from "@herald/domain"
import { Effect } from "effect"
import { DeliveryRepo } from "../storage/DeliveryRepo.ts"

const DefaultDeadLetterPage = 100

export const AdminHandlersLayer = AdminRpcs.AdminRpcs.toLayer(Effect.gen(function*() {
  const deliveries = yield* DeliveryRepo
  return AdminRpcs.AdminRpcs.of({
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
