/**
 * `NotificationWriter` against the real database: publishes of many users
 * made at once share insert statements, and sharing changes nothing a
 * single publish would store or answer (cursors, idempotency, resends,
 * delivery rows, digests), including when one publish of a batch collides.
 */
import { assert, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { NotificationId, NotifyItem, UserId } from "@herald/domain"
import { NotificationWriter } from "@herald/server"
import { UserRepo } from "@herald/server/storage/UserRepo"
import { MigrationsLayer } from "@herald/server/storage/Database"
import type { PublishRequest } from "@herald/server/storage/NotificationWriter"
import type { PublishItem, Route } from "@herald/server/storage/PublishPlan"
import { Metrics } from "@herald/server"
import { Context, Effect, Layer, Metric, Redacted } from "effect"
import { SecureRandom } from "effect/crypto"
import { query, testDatabase } from "../support/TestDatabase.ts"

const inAppOnly = (): Route => ({ inApp: true, push: false, email: "off" })

const item = (userId: string, title: string, idempotencyKey?: string): PublishItem => ({
  id: NotificationId.make(SecureRandom.uuidV7Unsafe()),
  item: NotifyItem.make({ userId: UserId.make(userId), kind: "mention", title, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) })
})

const withWriter = <A, E>(body: (url: string) => Effect.Effect<A, E, NotificationWriter>) =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const layer = NotificationWriter.layer.pipe(
      Layer.provideMerge(UserRepo.layer),
      Layer.provideMerge(MigrationsLayer),
      Layer.provideMerge(PgClient.layer({ url: Redacted.make(database.url) }))
    )
    return yield* body(database.url).pipe(Effect.provide(layer))
  }).pipe(Effect.scoped)

/** One request of its own: the writer still batches it with whatever else is queued. */
const publishOne = (request: PublishRequest) =>
  Effect.flatMap(NotificationWriter, (writer) => writer.publish([request])).pipe(
    Effect.flatMap(([published]) => published === undefined ? Effect.die("no answer") : published)
  )

const publishAll = (requests: ReadonlyArray<{ readonly userId: string; readonly items: ReadonlyArray<PublishItem>; readonly route?: Route["email"] | "push" }>) =>
  Effect.forEach(requests, ({ items, route, userId }) =>
    publishOne({
      userId: UserId.make(userId),
      items,
      routing: () => ({
        route: (): Route =>
          route === "push"
            ? { inApp: true, push: true, email: "off" }
            : route === undefined
            ? inAppOnly()
            : { inApp: true, push: false, email: route },
        digestDueAt: () => new Date("2030-01-01T08:00:00Z")
      }),
      traceParent: null
    }), { concurrency: "unbounded" })

describe("NotificationWriter", () => {
  it.effect("300 users publishing at once share statements and each gets cursor 1", () =>
    withWriter((url) =>
      Effect.gen(function*() {
        const before = yield* Metric.value(Metrics.publishBatchRows)
        const answers = yield* publishAll(Array.from({ length: 300 }, (_, i) => ({ userId: `u${i}`, items: [item(`u${i}`, "hi")] })))
        const after = yield* Metric.value(Metrics.publishBatchRows)
        assert.deepStrictEqual(answers.map((a) => a.results.map((r) => r.cursor)), answers.map(() => [1]))
        assert.strictEqual(after.sum - before.sum, 300)
        const statements = after.count - before.count
        assert.isBelow(statements, 300, `${statements} insert statements for 300 publishes`)
        const [rows] = yield* query<{ n: number }>(url, "SELECT count(*)::int AS n FROM notifications")
        assert.strictEqual(rows?.n, 300)
      })
    ))

  it.effect("one user's publishes made at once are stored in the order made, without gaps", () =>
    withWriter(() =>
      Effect.gen(function*() {
        const answers = yield* publishAll([
          { userId: "same", items: [item("same", "a"), item("same", "b")] },
          { userId: "other", items: [item("other", "x")] },
          { userId: "same", items: [item("same", "c")] }
        ])
        assert.deepStrictEqual(answers.map((a) => a.stored.map((n) => [n.title, n.cursor])), [
          [["a", 1], ["b", 2]],
          [["x", 1]],
          [["c", 3]]
        ])
      })
    ))

  it.effect("a resent publish in a batch gets its stored rows back while the others of the batch are stored", () =>
    withWriter((url) =>
      Effect.gen(function*() {
        const first = item("resender", "once")
        yield* publishAll([{ userId: "resender", items: [first] }])
        // The same ids again (a node died before the reply), without keys: the batch's insert
        // collides, and every publish of it must still get its own right answer.
        const answers = yield* publishAll([
          { userId: "fresh-1", items: [item("fresh-1", "new")] },
          { userId: "resender", items: [first, item("resender", "second")] },
          { userId: "fresh-2", items: [item("fresh-2", "new")] }
        ])
        assert.deepStrictEqual(answers.map((a) => a.stored.map((n) => n.title)), [["new"], ["second"], ["new"]])
        assert.deepStrictEqual(answers[1]?.resent.map((n) => [n.id, n.cursor]), [[first.id, 1]])
        assert.deepStrictEqual(answers[1]?.results.map((r) => [r.cursor, r.deduplicated]), [[1, false], [2, false]])
        const rows = yield* query<{ user_id: string; n: number }>(
          url,
          "SELECT user_id, count(*)::int AS n FROM notifications GROUP BY user_id ORDER BY user_id"
        )
        assert.deepStrictEqual(rows.map((r) => [r.user_id, r.n]), [["fresh-1", 1], ["fresh-2", 1], ["resender", 2]])
      })
    ))

  it.effect("idempotency keys are per user, within a batch and against stored rows", () =>
    withWriter((url) =>
      Effect.gen(function*() {
        yield* publishAll([{ userId: "k1", items: [item("k1", "stored", "order-1")] }])
        const answers = yield* publishAll([
          { userId: "k1", items: [item("k1", "retry", "order-1"), item("k1", "other", "order-2")] },
          { userId: "k2", items: [item("k2", "same key, other user", "order-1"), item("k2", "twice in one call", "order-1")] }
        ])
        assert.deepStrictEqual(answers.map((a) => a.results.map((r) => [r.cursor, r.deduplicated])), [
          [[1, true], [2, false]],
          [[1, false], [1, true]]
        ])
        const [rows] = yield* query<{ n: number }>(url, "SELECT count(*)::int AS n FROM notifications")
        assert.strictEqual(rows?.n, 3)
      })
    ))

  it.effect("push and email delivery rows and digest instants are written for their own users only", () =>
    withWriter((url) =>
      Effect.gen(function*() {
        yield* query(url, "INSERT INTO herald_users (user_id, email_address) VALUES ('mailed', 'm@example.com'), ('pushed', NULL)")
        yield* query(url, "INSERT INTO devices (user_id, token, platform) VALUES ('pushed', 'tok-1', 'android')")
        const answers = yield* publishAll([
          { userId: "pushed", items: [item("pushed", "p")], route: "push" },
          { userId: "mailed", items: [item("mailed", "m")], route: "immediate" },
          { userId: "digested", items: [item("digested", "d")], route: "digest" },
          { userId: "plain", items: [item("plain", "n")] }
        ])
        assert.deepStrictEqual(answers.map((a) => a.deliveries), [1, 1, 0, 0])
        const deliveries = yield* query<{ user_id: string; channel: string; target: string }>(
          url,
          "SELECT user_id, channel, target FROM deliveries ORDER BY user_id"
        )
        assert.deepStrictEqual(deliveries.map((d) => [d.user_id, d.channel, d.target]), [
          ["mailed", "email", "m@example.com"],
          ["pushed", "push", "tok-1"]
        ])
        const due = yield* query<{ user_id: string; due: string | null }>(
          url,
          "SELECT user_id, to_json(next_digest_at)#>>'{}' AS due FROM herald_users ORDER BY user_id"
        )
        assert.deepStrictEqual(due.map((u) => [u.user_id, u.due === null ? null : new Date(u.due).toISOString()]), [
          ["digested", "2030-01-01T08:00:00.000Z"],
          ["mailed", null],
          ["plain", null],
          ["pushed", null]
        ])
      })
    ))

  it.effect("each publish answers the user's in-app cursor before it, whatever went to sockets since", () =>
    withWriter(() =>
      Effect.gen(function*() {
        // Mentions go to sockets, status updates do not: only the first move the in-app cursor.
        const publish = (kinds: ReadonlyArray<"mention" | "status_update">) =>
          publishOne({
            userId: UserId.make("p"),
            items: kinds.map((kind) => ({
              id: NotificationId.make(SecureRandom.uuidV7Unsafe()),
              item: NotifyItem.make({ userId: UserId.make("p"), kind, title: kind })
            })),
            routing: () => ({
              route: (kind): Route => ({ inApp: kind === "mention", push: false, email: "off" }),
              digestDueAt: () => new Date("2030-01-01T08:00:00Z")
            }),
            traceParent: null
          })
        const seen: Array<[number, ReadonlyArray<number>]> = []
        for (const kinds of [["mention", "status_update"], ["status_update"], ["status_update", "mention", "mention"], ["mention"]] as const) {
          const published = yield* publish(kinds)
          seen.push([published.previousInApp, published.stored.map((n) => n.cursor)])
        }
        assert.deepStrictEqual(seen, [[0, [1, 2]], [1, [3]], [1, [4, 5, 6]], [6, [7]]])
      })
    ))

  it.effect("a publish routed by preferences changed on another node is routed again by the new ones", () =>
    Effect.gen(function*() {
      const database = yield* testDatabase
      const pg = PgClient.layer({ url: Redacted.make(database.url) })
      yield* Layer.build(MigrationsLayer.pipe(Layer.provide(pg)))
      // Two nodes: each its own writer and its own preferences in memory, one database.
      const node = () =>
        Layer.build(NotificationWriter.layer.pipe(Layer.provideMerge(UserRepo.layer), Layer.provide(pg))).pipe(
          Effect.map((context) => ({
            writer: Context.get(context, NotificationWriter),
            users: Context.get(context, UserRepo)
          }))
        )
      const a = yield* node()
      const b = yield* node()
      const userId = UserId.make("moving")
      // Each row is routed to sockets as the mention preference the publish was routed by says.
      const publishOn = (writer: NotificationWriter["Service"], title: string) =>
        writer.publish([{
          userId,
          items: [item(userId, title)],
          routing: (prefs) => ({
            route: (kind): Route => ({ inApp: prefs.kinds[kind].inApp, push: false, email: "off" }),
            digestDueAt: () => new Date("2030-01-01T08:00:00Z")
          }),
          traceParent: null
        }]).pipe(Effect.flatMap(([published]) => published === undefined ? Effect.die("no answer") : published))
      const staleCount = Effect.map(Metric.value(Metrics.publishPreferencesStale), ({ count }) => count)

      yield* publishOn(a.writer, "before")
      yield* b.users.updatePreferences(userId, { kinds: { mention: { inApp: false } } })
      const before = yield* staleCount
      const muted = yield* publishOn(a.writer, "after the change on b")
      assert.strictEqual((yield* staleCount) - before, 1, "a read its copy, the insert refused it, a read again")
      assert.deepStrictEqual(muted.stored.map((n) => n.cursor), [2], "the refused attempt took no cursor")

      // A change made on the node that publishes is in its memory at once: nothing is refused.
      yield* a.users.updatePreferences(userId, { kinds: { mention: { inApp: true } } })
      yield* publishOn(a.writer, "after the change on a")
      assert.strictEqual((yield* staleCount) - before, 1)
      // And b, which never read the first change back, learns the second from its insert too.
      yield* publishOn(b.writer, "from b")
      assert.strictEqual((yield* staleCount) - before, 2)

      const rows = yield* query<{ title: string; cursor: number; in_app: boolean }>(
        database.url,
        "SELECT title, cursor::int AS cursor, in_app FROM notifications WHERE user_id = $1 ORDER BY cursor",
        [userId]
      )
      assert.deepStrictEqual(rows.map((r) => [r.title, r.cursor, r.in_app]), [
        ["before", 1, true],
        ["after the change on b", 2, false],
        ["after the change on a", 3, true],
        ["from b", 4, true]
      ])
    }).pipe(Effect.scoped))
})
