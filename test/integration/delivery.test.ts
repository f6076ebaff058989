/**
 * One notification end to end: published over the typed RPC client, stored
 * in PostgreSQL, received on real sockets, resumed without gaps or
 * duplicates, and kept across a server restart.
 */
import { assert, layer } from "@effect/vitest"
import { NotificationSocket } from "@herald/client"
import { type Notification } from "@herald/domain"
import { Effect, Fiber, Stream } from "effect"
import { Herald } from "../support/Herald.ts"
import { openRaw, type ServerFrame } from "../support/RawSocket.ts"

const cursorsOf = (frames: ReadonlyArray<ServerFrame>) =>
  frames.flatMap((frame) => {
    const notification = frame["notification"]
    return frame.type === "notification" && typeof notification === "object" && notification !== null &&
        "cursor" in notification
      ? [Number(notification.cursor)]
      : []
  })

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

// The churn test drops its connections on purpose (1006), which the rollout guard rightly counts
// as failed sessions: with enough of them it trips the kill switch ("socket_error_rate 0.99"
// in a failed run's log), and the tests after it see no real-time frames at all (about 1 run
// in 20 failed so). It also reconnects faster than the per-IP upgrade limit (50 a second, and
// every test connects from 127.0.0.1), so the next test's socket could be refused with 429
// (seen once in CI). The guard and the limit have tests of their own.
layer(Herald.layer({ guard: { enabled: false }, limits: { connectsPerIp: 0 } }), { excludeTestServices: true, timeout: "120 seconds" })("delivery", (it) => {
  it.effect("a published notification reaches the user's NotificationSocket with every field", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const socket = yield* NotificationSocket.make({ url: herald.server.wsUrl, token: herald.token("d-alice") })
      const received = yield* socket.notifications.pipe(Stream.take(1), Stream.runCollect, Effect.forkChild)
      yield* socket.stateChanges.pipe(Stream.filter((state) => state === "open"), Stream.take(1), Stream.runDrain)
      const published = yield* herald.client.notify({
        userId: "d-alice",
        kind: "mention",
        title: "Bob mentioned you",
        body: "in #general",
        link: "https://app.example.com/m/1",
        actor: "bob"
      })
      const [notification] = yield* Fiber.join(received)
      assert.isDefined(notification)
      assert.strictEqual(notification?.id, published.id)
      assert.strictEqual(notification?.cursor, published.cursor)
      assert.strictEqual(notification?.kind, "mention")
      assert.strictEqual(notification?.title, "Bob mentioned you")
      assert.strictEqual(notification?.body, "in #general")
      assert.strictEqual(notification?.link, "https://app.example.com/m/1")
      assert.strictEqual(notification?.actor, "bob")
      assert.isNull(notification?.readAt)
    }).pipe(Effect.scoped))

  it.effect("a second publish with the same idempotency key returns the same id, deduplicated, and delivers nothing", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const socket = yield* openRaw(herald.server.wsUrl)
      yield* socket.sendJson({ type: "auth", token: yield* herald.token("d-idem") })
      yield* socket.until("synced")
      const first = yield* herald.client.notify({ userId: "d-idem", kind: "assignment", title: "Task 7", idempotencyKey: "task-7" })
      const again = yield* herald.client.notify({ userId: "d-idem", kind: "assignment", title: "Task 7", idempotencyKey: "task-7" })
      const other = yield* herald.client.notify({ userId: "d-idem", kind: "assignment", title: "Task 8", idempotencyKey: "task-8" })
      assert.strictEqual(first.deduplicated, false)
      assert.strictEqual(again.deduplicated, true)
      assert.strictEqual(again.id, first.id)
      assert.strictEqual(again.cursor, first.cursor)
      // The next two frames are task 7 then task 8: the duplicate produced no frame in between.
      assert.deepStrictEqual(cursorsOf([yield* socket.next(), yield* socket.next()]), [first.cursor, other.cursor])
      const inbox = yield* herald.client.listInbox({ userId: "d-idem" })
      assert.strictEqual(inbox.items.length, 2)
    }).pipe(Effect.scoped))

  it.effect("one batch across users and with a repeated key answers every item in order", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const results = yield* herald.client.notifyBatch([
        { userId: "d-b1", kind: "mention", title: "1", idempotencyKey: "same" },
        { userId: "d-b2", kind: "status_update", title: "2" },
        { userId: "d-b1", kind: "mention", title: "1 again", idempotencyKey: "same" },
        { userId: "d-b1", kind: "mention", title: "3" }
      ])
      assert.deepStrictEqual(results.map((r) => [r.userId, r.cursor, r.deduplicated]), [
        ["d-b1", 1, false],
        ["d-b2", 1, false],
        ["d-b1", 1, true],
        ["d-b1", 2, false]
      ])
      assert.strictEqual(results[2]?.id, results[0]?.id)
    }))

  it.effect("resume after a disconnect delivers exactly the missed notifications, in order, then live ones", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const user = "d-resume"
      const publish = (title: string) => herald.client.notify({ userId: user, kind: "status_update", title })
      const first = yield* Effect.scoped(Effect.gen(function*() {
        const socket = yield* openRaw(herald.server.wsUrl)
        yield* socket.sendJson({ type: "auth", token: yield* herald.token(user) })
        yield* socket.until("synced")
        for (const title of ["a", "b", "c"]) yield* publish(title)
        return cursorsOf([yield* socket.next(), yield* socket.next(), yield* socket.next()])
      }))
      assert.deepStrictEqual(first, [1, 2, 3])
      for (const title of ["d", "e", "f"]) yield* publish(title)
      const socket = yield* openRaw(herald.server.wsUrl)
      yield* socket.sendJson({ type: "auth", token: yield* herald.token(user), resume: 3 })
      const catchUp = yield* socket.until("synced")
      assert.deepStrictEqual(catchUp.map((frame) => frame.type), ["ready", "notification", "notification", "notification", "synced"])
      assert.deepStrictEqual(cursorsOf(catchUp), [4, 5, 6])
      assert.strictEqual(catchUp.at(-1)?.["cursor"], 6)
      yield* publish("g")
      assert.deepStrictEqual(cursorsOf([yield* socket.next()]), [7])
    }).pipe(Effect.scoped))

  it.effect("clients that keep reconnecting while notifications are published see each exactly once, with no gap", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const user = "d-churn"
      const total = 300
      const publisher = yield* Effect.forkChild(
        Effect.forEach(range(1, total), (i) => herald.client.notify({ userId: user, kind: "mention", title: `n${i}` }), {
          concurrency: 4,
          discard: true
        })
      )
      const received: Array<number> = []
      let sessions = 0
      while (received.length < total && sessions < 500) {
        sessions++
        yield* Effect.scoped(Effect.gen(function*() {
          const socket = yield* openRaw(herald.server.wsUrl)
          const resume = received.at(-1)
          yield* socket.sendJson({ type: "auth", token: yield* herald.token(user), ...(resume === undefined ? { resume: 0 } : { resume }) })
          // Read a handful of frames, then drop the connection mid-stream. Once everything has
          // arrived nothing more will come, so a session stops waiting then.
          for (let i = 0; i < 1 + (sessions % 7) && received.length < total; i++) {
            const frame = yield* socket.next("10 seconds")
            received.push(...cursorsOf([frame]))
          }
          yield* socket.terminate
        }))
      }
      yield* Fiber.join(publisher)
      assert.deepStrictEqual(received, range(1, total), `after ${sessions} sessions`)
      assert.isAbove(sessions, 10)
    }))

  it.effect("a token for one user never yields another user's notifications", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const socket = yield* openRaw(herald.server.wsUrl)
      yield* socket.sendJson({ type: "auth", token: yield* herald.token("d-iso-a"), resume: 0 })
      yield* socket.until("synced")
      yield* herald.client.notifyBatch(range(1, 20).map((i) => ({ userId: "d-iso-b", kind: "mention" as const, title: `for b ${i}` })))
      const own = yield* herald.client.notify({ userId: "d-iso-a", kind: "mention", title: "for a" })
      const frame = yield* socket.next()
      const notification = frame["notification"] as Notification
      assert.strictEqual(notification.userId, "d-iso-a")
      assert.strictEqual(notification.id, own.id)
    }).pipe(Effect.scoped))

  it.effect("the inbox pages newest first, filters unread, and marks read", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const user = "d-inbox"
      const published = yield* herald.client.notifyBatch(
        range(1, 5).map((i) => ({ userId: user, kind: "mention" as const, title: `n${i}` }))
      )
      const page1 = yield* herald.client.listInbox({ userId: user, limit: 2 })
      assert.deepStrictEqual(page1.items.map((n) => n.cursor), [5, 4])
      assert.strictEqual(page1.nextBefore, 4)
      const page2 = yield* herald.client.listInbox({ userId: user, limit: 2, before: page1.nextBefore ?? 0 })
      assert.deepStrictEqual(page2.items.map((n) => n.cursor), [3, 2])
      assert.strictEqual(yield* herald.client.unreadCount(user), 5)
      const marked = yield* herald.client.markRead(user, [published[0]?.id ?? "", published[1]?.id ?? ""])
      assert.strictEqual(marked, 2)
      assert.strictEqual(yield* herald.client.markRead(user, [published[0]?.id ?? ""]), 0, "already read")
      const unread = yield* herald.client.listInbox({ userId: user, unreadOnly: true })
      assert.deepStrictEqual(unread.items.map((n) => n.cursor), [5, 4, 3])
      assert.strictEqual(yield* herald.client.markAllRead(user), 3)
      assert.strictEqual(yield* herald.client.unreadCount(user), 0)
      const all = yield* herald.client.listInbox({ userId: user })
      assert.isTrue(all.items.every((n) => n.readAt !== null))
    }))
})
