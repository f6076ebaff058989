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
import { Context, Effect, Layer } from "effect"

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

/** Ends a subscription; calling it again does nothing. */
export type Unsubscribe = () => void

export class FanoutBus extends Context.Service<FanoutBus, {
  publish(messages: ReadonlyArray<FanoutMessage>): Effect.Effect<void>
  /**
   * Calls `listener` for each message to `userId` from when this succeeds (the
   * subscription is in place) until the returned function is called.
   * `onGap` is called when messages may have been lost in between (a Redis
   * reconnect): the subscriber should catch up from its store.
   *
   * A plain function to end it, not a scope: the gateway holds one per socket
   * for the socket's whole life, and a scope's finalizer keeps the Effect
   * context it was added in (about 1 KB a socket in a heap snapshot).
   */
  subscribe(userId: UserId, listener: FanoutListener, onGap?: () => void): Effect.Effect<Unsubscribe>
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
        Effect.sync(() => {
          const found = listeners.get(userId)
          if (found === undefined) listeners.set(userId, listener)
          else if (typeof found === "function") listeners.set(userId, new Set([found, listener]))
          else found.add(listener)
          return () => {
            const current = listeners.get(userId)
            if (current === listener) listeners.delete(userId)
            else if (current !== undefined && typeof current !== "function") {
              current.delete(listener)
              if (current.size === 0) listeners.delete(userId)
            }
          }
        })
    })
  })
}
