/**
 * Carries encoded notification frames from the node that stored them to
 * every socket of the user. Subscriptions are per user, so traffic scales
 * with connected users. This is the in-process bus of the embedded default;
 * a Redis-backed one with the same interface serves a cluster.
 *
 * Listeners are plain callbacks because they run once per frame per socket:
 * they must be cheap and must not fail.
 */
import type { Cursor, NotificationKind, UserId } from "@herald/domain"
import { Context, Effect, Layer, type Scope } from "effect"

export interface FanoutMessage {
  readonly userId: UserId
  readonly cursor: Cursor
  /**
   * The cursor of the user's in-app notification before this one (0 for none). A
   * subscriber that has not seen it missed a frame and should catch up from its store.
   */
  readonly previous: Cursor
  /** The notification frame, JSON-encoded once for all sockets. */
  readonly frame: string
  /** When the publish was accepted (stored), in epoch milliseconds: the start of delivery latency. */
  readonly acceptedAt: number
  /** The notification's kind, for the socket write's span and metrics. */
  readonly kind: NotificationKind
  /** The publish's `traceparent` (null with tracing off): the socket write continues that trace. */
  readonly trace: string | null
  /**
   * An operator's replay of a stored notification: written to every live socket of the user
   * outside cursor order (clients drop ids they have shown), and never a sign of a gap.
   */
  readonly replay?: true
}

export type FanoutListener = (message: FanoutMessage) => void

export class FanoutBus extends Context.Service<FanoutBus, {
  publish(messages: ReadonlyArray<FanoutMessage>): Effect.Effect<void>
  /**
   * Calls `listener` for each message to `userId` until the scope closes.
   * `onGap` is called when messages may have been lost in between (a Redis
   * reconnect): the subscriber should catch up from its store.
   */
  subscribe(userId: UserId, listener: FanoutListener, onGap?: () => void): Effect.Effect<void, never, Scope.Scope>
}>()("@herald/server/fanout/FanoutBus") {
  static readonly layerInProcess = Layer.sync(FanoutBus, () => {
    // Nearly every user has one socket: a bare listener then, a set only from the second one on.
    const listeners = new Map<UserId, FanoutListener | Set<FanoutListener>>()
    return FanoutBus.of({
      publish: (messages) =>
        Effect.sync(() => {
          for (const message of messages) {
            const found = listeners.get(message.userId)
            if (typeof found === "function") found(message)
            else if (found !== undefined) for (const listener of found) listener(message)
          }
        }),
      subscribe: (userId, listener) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const found = listeners.get(userId)
            if (found === undefined) listeners.set(userId, listener)
            else if (typeof found === "function") listeners.set(userId, new Set([found, listener]))
            else found.add(listener)
          }),
          () =>
            Effect.sync(() => {
              const found = listeners.get(userId)
              if (found === listener) listeners.delete(userId)
              else if (found !== undefined && typeof found !== "function") {
                found.delete(listener)
                if (found.size === 0) listeners.delete(userId)
              }
            })
        )
    })
  })
}
