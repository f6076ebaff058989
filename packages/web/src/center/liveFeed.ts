/**
 * The center's live feed: a `NotificationSocket` to this page's own server
 * (`ws(s)://<host>/ws`), resuming after the newest notification the list
 * already shows, so nothing published between loading the list and the
 * socket opening is missed and the socket's own resume covers every
 * reconnect after that.
 */
import { NotificationSocket, type SocketState } from "@herald/client"
import type { Cursor, Notification } from "@herald/domain"
import { Effect, Stream } from "effect"

export interface LiveFeedOptions {
  readonly token: string
  readonly resumeFrom: Cursor
  readonly onState: (state: SocketState) => void
  readonly onNotification: (notification: Notification) => void
}

export const socketUrl = (): string => `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`

/** Runs until the scope closes or the token is refused (`SocketAuthError`). */
export const liveFeed = (options: LiveFeedOptions) =>
  Effect.gen(function*() {
    const socket = yield* NotificationSocket.make({
      url: socketUrl(),
      token: options.token,
      resumeFrom: options.resumeFrom,
      // A page someone is looking at should come back soon after the network does: cap the backoff at 10 s.
      backoff: { initialMs: 500, maxMs: 10_000 },
      onState: options.onState
    })
    yield* socket.notifications.pipe(Stream.runForEach((notification) => Effect.sync(() => options.onNotification(notification))))
  }).pipe(Effect.scoped)
