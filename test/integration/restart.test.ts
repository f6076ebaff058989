/**
 * A server restart on the same database keeps every user's inbox and
 * cursor, and a NotificationSocket rides through it: it sees 1001, reconnects
 * and resumes with nothing lost and nothing twice.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient, NotificationSocket } from "@herald/client"
import { type Notification } from "@herald/domain"
import { Context, Effect, Exit, Layer, Queue, Scope, Stream } from "effect"
import { testDatabase } from "../support/TestDatabase.ts"
import { apiKey, freePort, testServer } from "../support/TestServer.ts"

it.live("a restart keeps the inbox and a connected client resumes without gap or duplicate", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const port = yield* freePort
    const url = `http://127.0.0.1:${port}`
    const client = yield* Layer.build(HeraldClient.layer({ url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))

    const first = yield* Scope.make()
    yield* testServer({ databaseUrl: database.url, port }).pipe(Scope.provide(first))

    const states: Array<string> = []
    const socket = yield* NotificationSocket.make({
      url: `ws://127.0.0.1:${port}/ws`,
      token: client.issueClientToken("r-alice").pipe(Effect.map(({ token }) => token)),
      backoff: { initialMs: 50, maxMs: 200 },
      onState: (state) => states.push(state)
    })
    const received = yield* Queue.unbounded<Notification>()
    yield* Effect.forkScoped(socket.notifications.pipe(Stream.runForEach((n) => Queue.offer(received, n))))
    yield* socket.stateChanges.pipe(Stream.filter((s) => s === "open"), Stream.take(1), Stream.runDrain)

    yield* client.notify({ userId: "r-alice", kind: "mention", title: "before 1" })
    yield* client.notify({ userId: "r-alice", kind: "mention", title: "before 2" })
    assert.deepStrictEqual([(yield* Queue.take(received)).cursor, (yield* Queue.take(received)).cursor], [1, 2])

    yield* Scope.close(first, Exit.void)
    const whileDown = yield* Effect.flip(client.notify({ userId: "r-alice", kind: "mention", title: "down" }))
    assert.strictEqual(whileDown._tag, "ServerUnreachable")

    const second = yield* Scope.make()
    yield* testServer({ databaseUrl: database.url, port }).pipe(Scope.provide(second))
    const after = yield* client.notify({ userId: "r-alice", kind: "mention", title: "after" })
    assert.strictEqual(after.cursor, 3, "the cursor continues where it was")
    const next = yield* Queue.take(received).pipe(Effect.timeout("10 seconds"), Effect.tapError(() => Effect.sync(() => console.log("states", states))))
    assert.strictEqual(next.cursor, 3)
    assert.strictEqual(next.title, "after")


    const inbox = yield* client.listInbox({ userId: "r-alice" })
    assert.deepStrictEqual(inbox.items.map((n) => n.title), ["after", "before 2", "before 1"])
    assert.strictEqual(yield* Queue.size(received), 0, "nothing delivered twice")
    yield* socket.close
    yield* Scope.close(second, Exit.void)
  }).pipe(Effect.scoped), { timeout: 60_000 })
