/**
 * How many authenticated sockets of a user this node holds, for `Presence`.
 *
 * Counted on the fan-out bus rather than in the gateway: the gateway
 * subscribes to the bus once per socket when it authenticates and ends
 * that subscription when the socket goes, so the live subscriptions of a
 * user are their open sockets. `counting(bus)` wraps the bus the gateway is
 * given and counts them; nothing else subscribes to the bus (publishers only
 * publish). Should the gateway ever subscribe for anything else, it should
 * instead answer `connectionsOf(userId)` itself and this layer read that.
 */
import type { UserId } from "@herald/domain"
import { Context, Effect, Layer } from "effect"
import { FanoutBus } from "../fanout/FanoutBus.ts"

export class LocalSockets extends Context.Service<LocalSockets, {
  /** The user's sockets on this node that are past authentication and not closed. */
  countOf(userId: UserId): number
}>()("@herald/server/gateway/LocalSockets") {
  /** `bus`, with every subscription counted per user while it lasts, and the counts. */
  static readonly counting = <E, R>(bus: Layer.Layer<FanoutBus, E, R>): Layer.Layer<FanoutBus | LocalSockets, E, R> =>
    Layer.effectContext(Effect.gen(function*() {
      const inner = yield* FanoutBus
      const counts = new Map<UserId, number>()
      const change = (userId: UserId, by: number) => {
        const next = (counts.get(userId) ?? 0) + by
        if (next > 0) counts.set(userId, next)
        else counts.delete(userId)
      }
      const counted = FanoutBus.of({
        publish: inner.publish,
        // Counted from before the inner subscribe (which may wait for Redis) until it ends, once.
        subscribe: (userId, listener, onGap) =>
          Effect.suspend(() => {
            change(userId, 1)
            let counted = true
            const uncount = () => {
              if (!counted) return
              counted = false
              change(userId, -1)
            }
            return inner.subscribe(userId, listener, onGap).pipe(
              Effect.onInterrupt(() => Effect.sync(uncount)),
              Effect.map((unsubscribe) => () => {
                unsubscribe()
                uncount()
              })
            )
          })
      })
      return Context.make(FanoutBus, counted).pipe(
        Context.add(LocalSockets, LocalSockets.of({ countOf: (userId) => counts.get(userId) ?? 0 }))
      )
    })).pipe(Layer.provide(bus))
}
