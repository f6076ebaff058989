/**
 * `Notify` calls of one client, carried together when they would otherwise
 * queue. Each call costs the app and the server a fixed price (an HTTP round
 * trip, the RPC machinery) on top of its items, so under load many small calls
 * spend the CPU that delivery needs. A client keeps at most `callsInFlight`
 * calls open; a publish that finds every slot taken waits, and when a call
 * answers, everything that waited goes out in one call (within the item and
 * byte limits). An idle client sends each publish at once, in the caller's own
 * fiber, exactly as without coalescing.
 *
 * Each caller's items stay together in one call (the server stores each
 * user's items of a call atomically) and each caller gets back its own
 * results, in its own order. A merged call that the server refuses as invalid
 * stored nothing, so its callers' items are sent again one caller at a time,
 * and each caller gets the answer to its own items.
 */
import type { NotifyItem, NotifyResult } from "@herald/domain"
import { Cause, Deferred, Effect, Exit, type Option, Scope, Tracer } from "effect"

export interface CoalescerLimits {
  /** Calls open at once; a publish beyond them waits for the next call. */
  readonly callsInFlight: number
  /** Items of one merged call (a single publish larger than this goes alone). */
  readonly itemsPerCall: number
  /** Upper bound of one merged call's items in bytes, by `itemBytesBound`. */
  readonly bytesPerCall: number
}

interface Entry<E> {
  readonly items: ReadonlyArray<NotifyItem>
  readonly bytes: number
  readonly span: Option.Option<Tracer.AnySpan>
  readonly done: Deferred.Deferred<ReadonlyArray<NotifyResult>, E>
}

export interface NotifyCoalescer<E> {
  readonly publish: (items: ReadonlyArray<NotifyItem>) => Effect.Effect<ReadonlyArray<NotifyResult>, E>
}

// UTF-8 takes at most 3 bytes per UTF-16 unit; the rest is JSON's keys, quotes and commas.
export const itemBytesBound = (item: NotifyItem): number =>
  160 + 3 * (item.userId.length + item.kind.length + item.title.length + (item.body?.length ?? 0) +
    (item.link?.length ?? 0) + (item.actor?.length ?? 0) + (item.idempotencyKey?.length ?? 0))

export const makeNotifyCoalescer = <E>(options: {
  readonly send: (items: ReadonlyArray<NotifyItem>) => Effect.Effect<ReadonlyArray<NotifyResult>, E>
  /** A refusal of the whole call that stored nothing and may be one caller's fault. */
  readonly isRefusal: (error: E) => boolean
  /** The answer when the server returns fewer or more results than items. */
  readonly wrongCount: (sent: number, answered: number) => E
  readonly limits: CoalescerLimits
  readonly scope: Scope.Scope
}): Effect.Effect<NotifyCoalescer<E>> => Effect.gen(function*() {
  const { isRefusal, limits, scope, send, wrongCount } = options
  const pending: Array<Entry<E>> = []
  let inFlight = 0

  // Whole entries in arrival order, at least one, within the limits.
  const take = (): Array<Entry<E>> => {
    let items = 0
    let bytes = 0
    let count = 0
    for (const entry of pending) {
      if (count > 0 && (items + entry.items.length > limits.itemsPerCall || bytes + entry.bytes > limits.bytesPerCall)) break
      items += entry.items.length
      bytes += entry.bytes
      count++
    }
    return pending.splice(0, count)
  }

  const sendChecked = (items: ReadonlyArray<NotifyItem>) =>
    send(items).pipe(
      Effect.flatMap((results) => results.length === items.length ? Effect.succeed(results) : Effect.fail(wrongCount(items.length, results.length)))
    )

  const answerAlone = (entry: Entry<E>) => Effect.flatMap(Effect.exit(sendChecked(entry.items)), (exit) => Deferred.done(entry.done, exit))

  const answer = (entries: ReadonlyArray<Entry<E>>, exit: Exit.Exit<ReadonlyArray<NotifyResult>, E>): Effect.Effect<void> => {
    if (Exit.isSuccess(exit)) {
      let offset = 0
      return Effect.forEach(entries, (entry) => {
        const results = exit.value.slice(offset, offset + entry.items.length)
        offset += entry.items.length
        return Deferred.succeed(entry.done, results)
      }, { discard: true })
    }
    const error = Cause.findErrorOption(exit.cause)
    if (entries.length > 1 && error._tag === "Some" && isRefusal(error.value)) {
      return Effect.forEach(entries, answerAlone, { discard: true })
    }
    return Effect.forEach(entries, (entry) => Deferred.failCause(entry.done, exit.cause), { discard: true })
  }

  // A merged call continues the first caller's trace and links the others'. No stack trace is
  // captured for the span: the name says where it is, and the capture was 4 % of a busy
  // publisher's CPU (docs/performance.md).
  const traced = (entries: ReadonlyArray<Entry<E>>, call: Effect.Effect<void>) => {
    const [first, ...rest] = entries
    const links = rest.flatMap((entry) => entry.span._tag === "Some" ? [{ span: entry.span.value, attributes: {} }] : [])
    const spanned = Effect.withSpan(call, "HeraldClient.notifyCall", {
      attributes: { "herald.calls": entries.length, "herald.items": entries.reduce((sum, entry) => sum + entry.items.length, 0) },
      links,
      captureStackTrace: false
    })
    return first?.span._tag === "Some" ? Effect.withParentSpan(spanned, first.span.value, { captureStackTrace: false }) : spanned
  }

  // A client closed while publishes wait or are sent answers them as interrupted, so no caller hangs.
  const interruptAll = (entries: ReadonlyArray<Entry<E>>) => Effect.forEach(entries, (entry) => Deferred.interrupt(entry.done), { discard: true })
  yield* Scope.addFinalizer(scope, Effect.suspend(() => interruptAll(pending.splice(0))))

  const run = (entries: ReadonlyArray<Entry<E>>): Effect.Effect<void> =>
    traced(entries, Effect.flatMap(Effect.exit(sendChecked(entries.flatMap((entry) => entry.items))), (exit) => answer(entries, exit))).pipe(
      Effect.onInterrupt(() => interruptAll(entries)),
      Effect.ensuring(Effect.suspend(() => {
        inFlight--
        return drain
      }))
    )

  const drain: Effect.Effect<void> = Effect.suspend(() => {
    const batches: Array<Array<Entry<E>>> = []
    while (inFlight < limits.callsInFlight && pending.length > 0) {
      inFlight++
      batches.push(take())
    }
    return Effect.forEach(batches, (batch) => Effect.forkIn(run(batch), scope), { discard: true })
  })

  const direct = (items: ReadonlyArray<NotifyItem>) =>
    sendChecked(items).pipe(Effect.ensuring(Effect.suspend(() => {
      inFlight--
      return drain
    })))

  const queued = (items: ReadonlyArray<NotifyItem>) =>
    Effect.gen(function*() {
      const entry: Entry<E> = {
        items,
        bytes: items.reduce((sum, item) => sum + itemBytesBound(item), 0),
        span: yield* Effect.serviceOption(Tracer.ParentSpan),
        done: yield* Deferred.make<ReadonlyArray<NotifyResult>, E>()
      }
      pending.push(entry)
      yield* drain
      // A caller that gives up before its entry is sent takes it back; once sent, it goes on.
      return yield* Deferred.await(entry.done).pipe(Effect.onInterrupt(() =>
        Effect.sync(() => {
          const index = pending.indexOf(entry)
          if (index >= 0) pending.splice(index, 1)
        })
      ))
    })

  const publish = (items: ReadonlyArray<NotifyItem>) =>
    Effect.suspend(() => {
      if (inFlight < limits.callsInFlight && pending.length === 0) {
        inFlight++
        return direct(items)
      }
      return queued(items)
    })

  return { publish }
})
