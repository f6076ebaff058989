/**
 * The client's coalescing of `Notify` calls, driven by a `send` the test
 * holds open: which items go in which call, who gets which results, and what
 * a refusal or an impatient caller does. (`notify-coalescing.test.ts` runs
 * the same against a real server.)
 */
import { assert, describe, it } from "@effect/vitest"
import { makeNotifyCoalescer } from "@herald/client/internal/NotifyCoalescer"
import { Cursor, NotifyItem, NotifyResult, UserId } from "@herald/domain"
import { newNotificationId } from "@herald/server/gateway/NotificationIds"
import { Deferred, Effect, Exit, Fiber, Scope } from "effect"

class Refused {
  readonly _tag = "Refused"
  readonly titles: ReadonlyArray<string>
  constructor(titles: ReadonlyArray<string>) {
    this.titles = titles
  }
}
class Down {
  readonly _tag = "Down"
}
type TestError = Refused | Down

// Each item's user is named for its title, so a result tells whose item it answers.
const item = (title: string) => NotifyItem.make({ userId: UserId.make(`n-${title}`), kind: "mention", title })
const resultFor = (notifyItem: NotifyItem) =>
  NotifyResult.make({ id: newNotificationId(), userId: notifyItem.userId, cursor: Cursor.make(1), deduplicated: false })

/** A `send` whose calls stay open until the test releases them, refusing any item titled "bad". */
const heldSend = Effect.gen(function*() {
  const calls: Array<{ readonly titles: ReadonlyArray<string>; readonly release: Deferred.Deferred<void> }> = []
  const down = { value: false }
  const send = (items: ReadonlyArray<NotifyItem>) =>
    Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      calls.push({ titles: items.map(({ title }) => title), release })
      yield* Deferred.await(release)
      if (down.value) return yield* Effect.fail<TestError>(new Down())
      if (items.some(({ title }) => title === "bad")) return yield* Effect.fail<TestError>(new Refused(items.map(({ title }) => title)))
      return items.map(resultFor)
    })
  const releaseAll = Effect.suspend(() => Effect.forEach(calls, ({ release }) => Deferred.succeed(release, undefined), { discard: true }))
  return { calls, down, send, releaseAll }
})

const coalescerWith = (send: (items: ReadonlyArray<NotifyItem>) => Effect.Effect<ReadonlyArray<NotifyResult>, TestError>, callsInFlight: number, itemsPerCall = 100) =>
  Effect.flatMap(Effect.scope, (scope: Scope.Scope) =>
    makeNotifyCoalescer<TestError>({
      send,
      isRefusal: (error) => error._tag === "Refused",
      wrongCount: () => new Down(),
      limits: { callsInFlight, itemsPerCall, bytesPerCall: 1 << 20 },
      scope
    }))

/** Lets forked fibers run until nothing more happens. */
const settle = Effect.yieldNow.pipe(Effect.repeat({ times: 20 }))

describe("NotifyCoalescer", () => {
  it.effect("sends at once while a slot is free, and merges what waited into one call", () =>
    Effect.gen(function*() {
      const held = yield* heldSend
      const coalescer = yield* coalescerWith(held.send, 1)
      const first = yield* Effect.forkChild(coalescer.publish([item("a")]))
      yield* settle
      const waiting = yield* Effect.forEach(["b", "c", "d"], (title) => Effect.forkChild(coalescer.publish([item(title)])))
      const pair = yield* Effect.forkChild(coalescer.publish([item("e"), item("f")]))
      yield* settle
      assert.deepStrictEqual(held.calls.map(({ titles }) => titles), [["a"]], "the others wait for the open call")
      yield* held.releaseAll
      yield* settle
      assert.deepStrictEqual(held.calls.map(({ titles }) => titles), [["a"], ["b", "c", "d", "e", "f"]])
      yield* held.releaseAll
      assert.deepStrictEqual((yield* Fiber.join(first)).map(({ userId }) => userId), ["n-a"])
      assert.deepStrictEqual(yield* Effect.forEach(waiting, (fiber) => Effect.map(Fiber.join(fiber), (results) => results.map(({ userId }) => userId))), [["n-b"], ["n-c"], ["n-d"]])
      assert.deepStrictEqual((yield* Fiber.join(pair)).map(({ userId }) => userId), ["n-e", "n-f"])
    }).pipe(Effect.scoped))

  it.effect("keeps each caller's items in one call and a merged call within the item limit", () =>
    Effect.gen(function*() {
      const held = yield* heldSend
      const coalescer = yield* coalescerWith(held.send, 1, 3)
      const fibers = yield* Effect.forEach([["a"], ["b", "c"], ["d", "e"], ["f", "g", "h", "i"], ["j"]], (titles) =>
        Effect.forkChild(coalescer.publish(titles.map((title) => item(title)))))
      for (let round = 0; round < 6; round++) {
        yield* settle
        yield* held.releaseAll
      }
      yield* Effect.forEach(fibers, Fiber.join)
      // A caller's four items exceed the limit of three: they go alone, never split.
      assert.deepStrictEqual(held.calls.map(({ titles }) => titles), [["a"], ["b", "c"], ["d", "e"], ["f", "g", "h", "i"], ["j"]])
    }).pipe(Effect.scoped))

  it.effect("a merged call refused as invalid is sent again per caller, so only the bad caller fails", () =>
    Effect.gen(function*() {
      const held = yield* heldSend
      const coalescer = yield* coalescerWith(held.send, 1)
      const first = yield* Effect.forkChild(coalescer.publish([item("a")]))
      yield* settle
      const good = yield* Effect.forkChild(coalescer.publish([item("b")]))
      const bad = yield* Effect.forkChild(Effect.flip(coalescer.publish([item("c"), item("bad")])))
      const alsoGood = yield* Effect.forkChild(coalescer.publish([item("d")]))
      for (let round = 0; round < 6; round++) {
        yield* settle
        yield* held.releaseAll
      }
      yield* Fiber.join(first)
      assert.deepStrictEqual((yield* Fiber.join(good)).map(({ userId }) => userId), ["n-b"])
      assert.deepStrictEqual((yield* Fiber.join(alsoGood)).map(({ userId }) => userId), ["n-d"])
      const refusal = yield* Fiber.join(bad)
      assert.strictEqual(refusal._tag, "Refused")
      assert.deepStrictEqual(refusal._tag === "Refused" ? refusal.titles : [], ["c", "bad"], "the refusal names only the caller's own items")
      assert.deepStrictEqual(held.calls.map(({ titles }) => titles), [["a"], ["b", "c", "bad", "d"], ["b"], ["c", "bad"], ["d"]])
    }).pipe(Effect.scoped))

  it.effect("any other failure of a merged call fails every caller in it with that error", () =>
    Effect.gen(function*() {
      const held = yield* heldSend
      const coalescer = yield* coalescerWith(held.send, 1)
      const first = yield* Effect.forkChild(coalescer.publish([item("a")]))
      yield* settle
      const waiting = yield* Effect.forEach(["b", "c"], (title) => Effect.forkChild(Effect.flip(coalescer.publish([item(title)]))))
      yield* settle
      yield* held.releaseAll
      yield* Fiber.join(first)
      held.down.value = true
      for (let round = 0; round < 4; round++) {
        yield* settle
        yield* held.releaseAll
      }
      const errors = yield* Effect.forEach(waiting, Fiber.join)
      assert.deepStrictEqual(errors.map(({ _tag }) => _tag), ["Down", "Down"])
      assert.strictEqual(held.calls.length, 2, "nothing is sent again")
    }).pipe(Effect.scoped))

  it.effect("a caller that gives up while waiting takes its items back; the others still go", () =>
    Effect.gen(function*() {
      const held = yield* heldSend
      const coalescer = yield* coalescerWith(held.send, 1)
      const first = yield* Effect.forkChild(coalescer.publish([item("a")]))
      yield* settle
      const impatient = yield* Effect.forkChild(coalescer.publish([item("gone")]))
      const patient = yield* Effect.forkChild(coalescer.publish([item("b")]))
      yield* settle
      yield* Fiber.interrupt(impatient)
      yield* held.releaseAll
      yield* settle
      yield* held.releaseAll
      yield* Fiber.join(first)
      assert.deepStrictEqual((yield* Fiber.join(patient)).map(({ userId }) => userId), ["n-b"])
      assert.deepStrictEqual(held.calls.map(({ titles }) => titles), [["a"], ["b"]])
    }).pipe(Effect.scoped))

  it.effect("closing the client answers waiting and sent publishes as interrupted", () =>
    Effect.gen(function*() {
      const held = yield* heldSend
      const scope = yield* Scope.make()
      const coalescer = yield* coalescerWith(held.send, 1).pipe(Scope.provide(scope))
      const first = yield* Effect.forkChild(Effect.exit(coalescer.publish([item("a")])))
      yield* settle
      const waiting = yield* Effect.forkChild(Effect.exit(coalescer.publish([item("b")])))
      yield* settle
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Fiber.join(waiting)
      assert.isTrue(Exit.hasInterrupts(exit), "the waiting publish is interrupted, not left hanging")
      yield* held.releaseAll
      assert.strictEqual((yield* Fiber.join(first))._tag, "Success", "the call in the caller's own fiber goes on")
      assert.deepStrictEqual(held.calls.map(({ titles }) => titles), [["a"]])
    }))

  it.effect("with several slots, publishes go at once until all are open", () =>
    Effect.gen(function*() {
      const held = yield* heldSend
      const coalescer = yield* coalescerWith(held.send, 3)
      const fibers = yield* Effect.forEach(["a", "b", "c", "d", "e"], (title) => Effect.forkChild(coalescer.publish([item(title)])))
      yield* settle
      assert.deepStrictEqual(held.calls.map(({ titles }) => titles), [["a"], ["b"], ["c"]])
      yield* held.releaseAll
      yield* settle
      assert.deepStrictEqual(held.calls.map(({ titles }) => titles), [["a"], ["b"], ["c"], ["d", "e"]])
      yield* held.releaseAll
      yield* Effect.forEach(fibers, Fiber.join)
    }).pipe(Effect.scoped))
})
