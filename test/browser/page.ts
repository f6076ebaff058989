/**
 * The browser side of `notification-socket.test.ts`: bundled by Vite at test
 * time and loaded by Chromium from `index.html`. The test drives it with
 * `page.evaluate` through `window.herald` and reads what the socket did from
 * `window.received`, `window.states` and `window.failures`.
 */
import { NotificationSocket, type SocketState } from "@herald/client"
import type { Cursor } from "@herald/domain"
import { Cause, Effect, Exit, Option, Stream } from "effect"

/** One notification as the page's app code saw it, tagged with the connection (1, 2, …) that emitted it. */
export interface ReceivedNotification {
  readonly connection: number
  readonly id: string
  readonly cursor: number
  readonly title: string
}

export interface HeraldPage {
  /**
   * Opens a new `NotificationSocket` (connection number returned); `resume: true` resumes from the
   * last cursor the previous socket received, as an app that remembers it would.
   */
  connect(options: { readonly url: string; readonly token: string; readonly resume: boolean }): Promise<number>
  /** Closes the current socket with `socket.close` and waits until its notification stream has ended. */
  close(): Promise<void>
}

declare global {
  interface Window {
    herald: HeraldPage
    received: Array<ReceivedNotification>
    /** Every state `onState` reported, with the connection that reported it. */
    states: Array<{ readonly connection: number; readonly state: SocketState }>
    /** Pretty causes of sockets whose stream failed (there should be none). */
    failures: Array<string>
  }
}

window.received = []
window.states = []
window.failures = []

let connections = 0
// `ended` settles once the connection's notification stream has ended and its scope has closed.
let current: { readonly socket: NotificationSocket; readonly ended: Promise<void> } | undefined
let lastCursor: Option.Option<Cursor> = Option.none()

window.herald = {
  connect({ url, token, resume }) {
    if (current !== undefined) return Promise.reject(new Error("a socket is already open; close it first"))
    const connection = ++connections
    let ended!: () => void
    const endedPromise = new Promise<void>((resolve) => (ended = resolve))
    return new Promise<number>((resolve, reject) => {
      Effect.runFork(
        Effect.gen(function*() {
          const socket = yield* NotificationSocket.make({
            url,
            token,
            resumeFrom: resume ? Option.getOrUndefined(lastCursor) : undefined,
            onState: (state) => void window.states.push({ connection, state })
          })
          current = { socket, ended: endedPromise }
          resolve(connection)
          yield* socket.notifications.pipe(
            Stream.runForEach((n) =>
              Effect.sync(() => void window.received.push({ connection, id: n.id, cursor: n.cursor, title: n.title }))
            )
          )
          lastCursor = yield* socket.lastCursor
        }).pipe(
          Effect.scoped,
          Effect.onExit((exit) =>
            Effect.sync(() => {
              if (Exit.isFailure(exit)) {
                const failure = `connection ${connection}: ${Cause.pretty(exit.cause)}`
                window.failures.push(failure)
                reject(new Error(failure))
              }
              ended()
            })
          ),
          Effect.ignore
        )
      )
    })
  },
  async close() {
    const open = current
    if (open === undefined) return
    current = undefined
    await Effect.runPromise(open.socket.close)
    await open.ended
  }
}
