/**
 * Publishing in batches, closed loop, for the persist benchmark
 * (`../persist.ts`): `concurrency` workers, each sending one `Notify` call
 * of `batch` items and the next as soon as it is answered, until the phase's
 * time is up. Item `n` of the run goes to user `n mod users` and carries its
 * number in the title (and the idempotency key, when keys are on), so the
 * database can be checked item by item afterwards; consecutive items go to
 * distinct users, so no call has two items for one user.
 *
 * Closed loop measures throughput, not latency under a given rate: the
 * publisher never has more than `concurrency` calls outstanding, so a slow
 * server lowers the rate instead of queueing calls.
 *
 * Every call is kept (a few thousand per run); a uniform sample of the
 * acknowledged items, with the ids Herald gave them, is kept for the
 * deduplication check.
 */
import type { HeraldClient, NotifyInput } from "@herald/client"
import type { NotifyResult } from "@herald/domain"
import { Cause, Duration, Effect, Exit } from "effect"

export interface BatchCall {
  /** The call's items are `first` … `first + size - 1`. */
  readonly first: number
  readonly size: number
  readonly startedAt: number
  readonly ms: number
  /** Null when Notify succeeded; the error's tag otherwise (`TimeoutError`, `Defect`, …). */
  readonly failed: string | null
}

export interface Phase {
  readonly calls: ReadonlyArray<BatchCall>
  /** From the first call's start to the last answer: every call of the phase falls within it. */
  readonly wallMs: number
  /** Items of the calls that succeeded. */
  readonly acknowledged: number
  /** Items Herald answered `deduplicated: true` for (fresh keys: should be none). */
  readonly deduplicatedAnswers: number
  readonly errorsByTag: Readonly<Record<string, number>>
  readonly firstErrors: ReadonlyArray<{ readonly tag: string; readonly message: string }>
}

export type CallOutcome =
  | { readonly _tag: "ok"; readonly results: ReadonlyArray<NotifyResult> }
  | { readonly _tag: "failed"; readonly tag: string; readonly message: string }

export interface SampledItem {
  readonly index: number
  readonly id: string
}

/** What sending failed calls again with the same keys found. */
export interface Settled {
  /** Failed calls sent again until they succeeded. */
  readonly calls: number
  /** Their items: now acknowledged, so the database must hold them. */
  readonly items: number
  /** Of those, items the failed attempt had stored already (answered `deduplicated: true`). */
  readonly storedByFailedAttempt: number
  /** Calls that still failed after every attempt; their items stay unacknowledged. */
  readonly unsettled: ReadonlyArray<BatchCall>
}

export interface BatchPublisherOptions {
  readonly client: HeraldClient["Service"]
  readonly users: number
  readonly batch: number
  readonly concurrency: number
  readonly keys: boolean
  /** Names this run's items (titles and keys), apart from any other run's. */
  readonly runId: string
  readonly sampleSize: number
  /** A call with no answer after this long counts as failed: a hung server must not hang the benchmark. */
  readonly callTimeoutMs: number
}

/** One Notify call; never fails, the outcome says how it went. */
export const notifyOnce = async (
  client: HeraldClient["Service"],
  items: ReadonlyArray<NotifyInput>,
  timeoutMs: number
): Promise<CallOutcome> => {
  const exit = await Effect.runPromiseExit(client.notifyBatch(items).pipe(Effect.timeout(Duration.millis(timeoutMs))))
  if (Exit.isSuccess(exit)) {
    // One result per item is the contract; anything else means the answer cannot be matched to the items.
    return exit.value.length === items.length
      ? { _tag: "ok", results: exit.value }
      : { _tag: "failed", tag: "WrongResultCount", message: `${exit.value.length} results for ${items.length} items` }
  }
  const found = Cause.findErrorOption(exit.cause)
  if (found._tag === "Some") return { _tag: "failed", tag: found.value._tag, message: found.value.message }
  return {
    _tag: "failed",
    tag: Cause.hasInterruptsOnly(exit.cause) ? "Interrupted" : "Defect",
    message: Cause.pretty(exit.cause).split("\n").slice(0, 3).join(" | ")
  }
}

export const batchPublisher = (options: BatchPublisherOptions) => {
  const { client, batch, users, runId } = options
  let next = 0
  let acknowledgedSoFar = 0
  const sample: Array<SampledItem> = []

  const item = (n: number): NotifyInput => ({
    userId: `persist-u${n % users}`,
    kind: "mention",
    title: `persist ${runId} #${n}`,
    ...(options.keys ? { idempotencyKey: `persist-${runId}-${n}` } : {})
  })
  const items = (first: number, size: number): Array<NotifyInput> => Array.from({ length: size }, (_, i) => item(first + i))

  // Reservoir sampling (Algorithm R): every acknowledged item has the same chance to be in the sample.
  const remember = (first: number, results: ReadonlyArray<NotifyResult>) => {
    results.forEach((result, i) => {
      acknowledgedSoFar++
      const entry = { index: first + i, id: result.id }
      if (sample.length < options.sampleSize) sample.push(entry)
      else {
        const slot = Math.floor(Math.random() * acknowledgedSoFar)
        if (slot < options.sampleSize) sample[slot] = entry
      }
    })
  }

  /** Publishes closed loop for `seconds`, then waits for the calls in flight. */
  const run = async (seconds: number): Promise<Phase> => {
    const calls: Array<BatchCall> = []
    const errorsByTag: Record<string, number> = {}
    const firstErrors: Array<{ tag: string; message: string }> = []
    let acknowledged = 0
    let deduplicatedAnswers = 0
    const started = performance.now()
    const deadline = started + seconds * 1000

    const worker = async () => {
      while (performance.now() < deadline) {
        const first = next
        next += batch
        const startedAt = performance.now()
        const outcome = await notifyOnce(client, items(first, batch), options.callTimeoutMs)
        const ms = performance.now() - startedAt
        if (outcome._tag === "ok") {
          acknowledged += batch
          for (const result of outcome.results) if (result.deduplicated) deduplicatedAnswers++
          remember(first, outcome.results)
          calls.push({ first, size: batch, startedAt, ms, failed: null })
        } else {
          errorsByTag[outcome.tag] = (errorsByTag[outcome.tag] ?? 0) + 1
          if (firstErrors.length < 5) firstErrors.push({ tag: outcome.tag, message: outcome.message })
          calls.push({ first, size: batch, startedAt, ms, failed: outcome.tag })
        }
      }
    }
    await Promise.all(Array.from({ length: options.concurrency }, worker))
    return {
      calls,
      wallMs: performance.now() - started,
      acknowledged,
      deduplicatedAnswers,
      errorsByTag,
      firstErrors
    }
  }

  /**
   * Sends failed calls again, the same items with the same keys, the way an app would: what the failed
   * attempt stored comes back deduplicated, so afterwards every item is either acknowledged or
   * counted as unsettled. Only meaningful with keys on; without, a repeat could store twice.
   */
  const settle = async (failed: ReadonlyArray<BatchCall>, attempts: number, pauseMs: number): Promise<Settled> => {
    let calls = 0
    let settledItems = 0
    let storedByFailedAttempt = 0
    const unsettled: Array<BatchCall> = []
    for (const call of failed) {
      let done = false
      for (let attempt = 0; attempt < attempts && !done; attempt++) {
        if (attempt > 0) await new Promise<void>((resolve) => setTimeout(resolve, pauseMs))
        const outcome = await notifyOnce(client, items(call.first, call.size), options.callTimeoutMs)
        if (outcome._tag !== "ok") continue
        done = true
        calls++
        settledItems += call.size
        for (const result of outcome.results) if (result.deduplicated) storedByFailedAttempt++
        remember(call.first, outcome.results)
      }
      if (!done) unsettled.push(call)
    }
    return { calls, items: settledItems, storedByFailedAttempt, unsettled }
  }

  return {
    run,
    settle,
    item,
    items,
    /** How many item numbers have been handed out: every item of the run is below this. */
    issued: () => next,
    sample: (): ReadonlyArray<SampledItem> => sample
  }
}

export type BatchPublisher = ReturnType<typeof batchPublisher>
