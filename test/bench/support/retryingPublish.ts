/**
 * Publishing the way an app in front of a cluster should: each notification
 * has its own idempotency key, and a failed attempt (the node is down, a
 * retryable `StorageUnavailable` while the user's mailbox fails over, a call
 * that died or was interrupted on the server) is repeated against the next
 * node with the same key, at once, and after a short backoff once every
 * node has failed in a row, until it succeeds or `deadlineMs` has passed
 * since the first attempt. The key makes a repeat
 * store nothing twice, so retrying is safe even when the failed attempt did
 * store. Only `Unauthorized`, `InvalidRequest` and a non-retryable
 * `StorageUnavailable` end a publish at once.
 *
 * Publishes go one per `Notify` call (`call`) or several in one (`send`, for
 * a batch from `publishCoalescer.ts`). A batch is attempted and retried as a
 * whole: the server stores a call's items or fails the call, and the keys
 * make the items an earlier attempt did store come back deduplicated.
 *
 * Everything is recorded per publish in typed arrays (a run has tens of
 * thousands) and per failed attempt of a publish in a list (they are few; a
 * failed call of a batch is one failed attempt for each of its publishes).
 */
import { type HeraldClient, type HeraldClientError, type NotifyInput } from "@herald/client"
import type { NotifyResult } from "@herald/domain"
import { Cause, Duration, Effect, Exit } from "effect"
import type { Started } from "./publishCoalescer.ts"

export interface AttemptFailure {
  readonly publish: number
  readonly node: number
  readonly startedAt: number
  readonly endedAt: number
  /** The error's tag, `AttemptTimeout`, `Interrupted` or `Defect`. */
  readonly tag: string
  readonly message: string
}

export interface PublishLedger {
  /** Attempts made per publish (1 when the first succeeded). */
  readonly attempts: Uint16Array
  /** `performance.now()` of the successful answer; NaN when none came. */
  readonly answeredAt: Float64Array
  /** How long the successful attempt alone took. */
  readonly successAttemptMs: Float64Array
  /** The node that accepted it; -1 when none did. */
  readonly acceptedBy: Int8Array
  /** 1 when the accepting node answered `deduplicated` (an earlier attempt had stored it). */
  readonly deduplicated: Uint8Array
  readonly failures: Array<AttemptFailure>
  /** Publishes that gave up (a non-retryable error, or the deadline). */
  readonly gaveUp: Array<{ readonly publish: number; readonly tag: string; readonly message: string }>
}

export interface RetryingPublishOptions {
  readonly clients: ReadonlyArray<HeraldClient["Service"]>
  readonly count: number
  readonly item: (i: number) => NotifyInput
  /** The node of `call(i)`'s first attempt; later ones take the following nodes in turn. `send` is told its own. */
  readonly firstNode: (i: number) => number
  /** The pause after each round in which every node failed, doubling per round. */
  readonly backoffMs: { readonly initial: number; readonly max: number }
  /** An attempt with no answer after this long counts as failed (the node may hang rather than refuse). */
  readonly attemptTimeoutMs: number
  readonly deadlineMs: number
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

class AttemptTimeout {
  readonly _tag = "AttemptTimeout"
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

/** An answer without one result per item: what `HeraldClient.notify` reports as `ServerUnreachable`, so retried alike. */
class MissingResults {
  readonly _tag = "MissingResults"
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

type AttemptError = HeraldClientError | AttemptTimeout | MissingResults

const retryable = (error: AttemptError): boolean =>
  error._tag === "ServerUnreachable" || error._tag === "AttemptTimeout" || error._tag === "MissingResults" ||
  (error._tag === "StorageUnavailable" && error.retryable)

/**
 * The ledger; `send`, which publishes a batch in one `Notify` call per
 * attempt, first on node `firstNode`, and resolves once the batch succeeded
 * or gave up; and `call`, the same for one publish, for `runOpenLoop`.
 */
export const retryingPublish = (options: RetryingPublishOptions) => {
  const { count, clients } = options
  const ledger: PublishLedger = {
    attempts: new Uint16Array(count),
    answeredAt: new Float64Array(count).fill(Number.NaN),
    successAttemptMs: new Float64Array(count).fill(Number.NaN),
    acceptedBy: new Int8Array(count).fill(-1),
    deduplicated: new Uint8Array(count),
    failures: [],
    gaveUp: []
  }
  const timeout = Duration.millis(options.attemptTimeoutMs)

  const send = async (batch: ReadonlyArray<Started>, firstNode: number): Promise<boolean> => {
    if (batch.length === 0) return true
    const items = batch.map((publish) => options.item(publish.index))
    const notify = (client: HeraldClient["Service"]) =>
      client.notifyBatch(items).pipe(
        Effect.flatMap((results): Effect.Effect<ReadonlyArray<NotifyResult>, MissingResults> =>
          results.length === items.length
            ? Effect.succeed(results)
            : Effect.fail(new MissingResults(`the server answered Notify of ${items.length} items with ${results.length} results`))
        ),
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.fail(new AttemptTimeout(`no answer within ${options.attemptTimeoutMs} ms`))
        })
      )
    // The deadline runs from the batch's earliest start, so no publish in it is retried past its own deadline.
    const firstStartedAt = batch.reduce((earliest, publish) => Math.min(earliest, publish.startedAt), Number.POSITIVE_INFINITY)
    for (let attempt = 0; ; attempt++) {
      const node = (firstNode + attempt) % clients.length
      const client = clients[node]
      if (client === undefined) throw new Error(`no client for node ${node}`)
      const attemptStartedAt = performance.now()
      // A first attempt started, for each publish, when the open loop started it; a repeat starts now.
      const startedAt = (publish: Started) => attempt === 0 ? publish.startedAt : attemptStartedAt
      for (const publish of batch) ledger.attempts[publish.index] = attempt + 1
      const exit = await Effect.runPromiseExit(notify(client))
      const endedAt = performance.now()
      if (Exit.isSuccess(exit)) {
        batch.forEach((publish, k) => {
          const i = publish.index
          ledger.answeredAt[i] = endedAt
          ledger.successAttemptMs[i] = endedAt - startedAt(publish)
          ledger.acceptedBy[i] = node
          if (exit.value[k]?.deduplicated === true) ledger.deduplicated[i] = 1
        })
        return true
      }
      const found = Cause.findErrorOption(exit.cause)
      const error = found._tag === "Some" ? found.value : undefined
      const tag = error?._tag ?? (Cause.hasInterruptsOnly(exit.cause) ? "Interrupted" : "Defect")
      const message = error?.message ?? Cause.pretty(exit.cause).split("\n").slice(0, 3).join(" | ")
      for (const publish of batch) ledger.failures.push({ publish: publish.index, node, startedAt: startedAt(publish), endedAt, tag, message })
      // An interrupted or crashed call says nothing about whether it stored: the same key makes retrying safe.
      if ((error !== undefined && !retryable(error)) || endedAt - firstStartedAt > options.deadlineMs) {
        for (const publish of batch) ledger.gaveUp.push({ publish: publish.index, tag, message })
        return false
      }
      // A dead node refuses within a millisecond: waiting before the next node would only add latency.
      const rounds = (attempt + 1) / clients.length
      if (Number.isInteger(rounds)) await sleep(Math.min(options.backoffMs.max, options.backoffMs.initial * 2 ** (rounds - 1)))
    }
  }

  const call = (i: number, startedAt: number): Promise<boolean> => send([{ index: i, startedAt }], options.firstNode(i))

  return { ledger, call, send }
}
