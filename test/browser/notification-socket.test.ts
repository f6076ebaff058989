/**
 * `NotificationSocket` from `@herald/client`, bundled for the browser by Vite
 * and run in a real (headless, system) Chromium against a real Herald server
 * on a fresh database. The page (`page.ts`) records what the socket emitted in
 * `window.received` and its states in `window.states`; the test polls them.
 * Every wait is on page state, with generous limits; nothing checks wall time.
 * (`excludeTestServices` makes `it.effect` run on the live clock.)
 */
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { Page } from "playwright-core"
import { Herald } from "../support/Herald.ts"
import { Chromium } from "./Chromium.ts"
import type { ReceivedNotification } from "./page.ts"

interface Snapshot {
  readonly received: ReadonlyArray<ReceivedNotification>
  readonly states: ReadonlyArray<{ readonly connection: number; readonly state: string }>
  readonly failures: ReadonlyArray<string>
}

const snapshot = (page: Page) =>
  Effect.promise((): Promise<Snapshot> =>
    page.evaluate(() => ({ received: window.received, states: window.states, failures: window.failures }))
  )

/** Polls the page until `done` holds (every 50 ms, up to 20 s), failing with what the page last showed. */
const waitFor = (
  page: Page,
  problems: ReadonlyArray<string>,
  what: string,
  done: (snapshot: Snapshot) => boolean
) =>
  Effect.gen(function*() {
    let last = yield* snapshot(page)
    for (let i = 0; i < 400 && !done(last); i++) {
      if (last.failures.length > 0) break
      yield* Effect.sleep("50 millis")
      last = yield* snapshot(page)
    }
    if (!done(last)) {
      return yield* Effect.die(
        new Error(`the page never got to: ${what}\npage state: ${JSON.stringify(last)}\npage problems: ${JSON.stringify(problems)}`)
      )
    }
    return last
  })

const connect = (page: Page, options: { readonly url: string; readonly token: string; readonly resume: boolean }) =>
  Effect.promise(() => page.evaluate((options) => window.herald.connect(options), options))

const closeSocket = (page: Page) => Effect.promise(() => page.evaluate(() => window.herald.close()))

const isOpen = (connection: number) => (s: Snapshot) =>
  s.states.some((entry) => entry.connection === connection && entry.state === "open")

const receivedOn = (connection: number, s: Snapshot) => s.received.filter((n) => n.connection === connection)

layer(Layer.merge(Herald.layer(), Chromium.layer), { excludeTestServices: true, timeout: "120 seconds" })(
  "NotificationSocket in Chromium",
  (it) => {
    it.effect("notifications published through the API reach the page in cursor order", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const { page, problems } = yield* (yield* Chromium).openPage
        const connection = yield* connect(page, {
          url: herald.server.wsUrl,
          token: yield* herald.token("b-live"),
          resume: false
        })
        yield* waitFor(page, problems, "the socket is open", isOpen(connection))

        const first = yield* herald.client.notify({ userId: "b-live", kind: "mention", title: "first from the server" })
        const second = yield* herald.client.notify({ userId: "b-live", kind: "mention", title: "second from the server" })
        assert.isBelow(first.cursor, second.cursor)

        const seen = yield* waitFor(page, problems, "both notifications received", (s) => receivedOn(connection, s).length >= 2)
        assert.deepStrictEqual(receivedOn(connection, seen), [
          { connection, id: first.id, cursor: first.cursor, title: "first from the server" },
          { connection, id: second.id, cursor: second.cursor, title: "second from the server" }
        ])
        assert.deepStrictEqual(seen.failures, [])
        assert.deepStrictEqual(problems, [])
        assert.deepStrictEqual(seen.states.map((entry) => entry.state), ["connecting", "open"])
      }), 90_000)

    it.effect("after socket.close, a new socket made with resumeFrom the last cursor gets exactly what was published in between", () =>
      Effect.gen(function*() {
        const herald = yield* Herald
        const { page, problems } = yield* (yield* Chromium).openPage
        const url = herald.server.wsUrl

        const one = yield* connect(page, { url, token: yield* herald.token("b-resume"), resume: false })
        yield* waitFor(page, problems, "the first socket is open", isOpen(one))
        const before = yield* herald.client.notify({ userId: "b-resume", kind: "mention", title: "before the close" })
        yield* waitFor(page, problems, "the first notification received", (s) => receivedOn(one, s).length >= 1)

        yield* closeSocket(page)
        const closed = yield* waitFor(page, problems, "the first socket is closed", (s) =>
          s.states.some((entry) => entry.connection === one && entry.state === "closed"))
        assert.deepStrictEqual(receivedOn(one, closed), [
          { connection: one, id: before.id, cursor: before.cursor, title: "before the close" }
        ])

        const between = yield* herald.client.notify({ userId: "b-resume", kind: "mention", title: "while no socket was open" })

        const two = yield* connect(page, { url, token: yield* herald.token("b-resume"), resume: true })
        yield* waitFor(page, problems, "the resumed socket is open", isOpen(two))
        // The server replays in cursor order, so a replay of `before` would come ahead of `between`.
        const resumed = yield* waitFor(page, problems, "the notification published in between", (s) => receivedOn(two, s).length >= 1)
        assert.deepStrictEqual(receivedOn(two, resumed), [
          { connection: two, id: between.id, cursor: between.cursor, title: "while no socket was open" }
        ])

        // And it is live again: the next one arrives on the same socket, after the replayed one.
        const after = yield* herald.client.notify({ userId: "b-resume", kind: "mention", title: "after the resume" })
        const live = yield* waitFor(page, problems, "the notification published after the resume", (s) => receivedOn(two, s).length >= 2)
        assert.deepStrictEqual(receivedOn(two, live).map((n) => [n.id, n.title]), [
          [between.id, "while no socket was open"],
          [after.id, "after the resume"]
        ])
        assert.deepStrictEqual(live.failures, [])
        assert.deepStrictEqual(problems, [])
        assert.deepStrictEqual(live.received.length, 3)
      }), 90_000)
  }
)
