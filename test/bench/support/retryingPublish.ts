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
 * Everything is recorded per publish in typed arrays (a run has tens of
 * thousands) and per failed attempt in a list (they are few).
 */
import { type HeraldClient, type HeraldClientError, type NotifyInput } from "@herald/client"
import { Cause, Duration, Effect, Exit } from "effect"

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
  /** The node of the first attempt; later ones take the following nodes in turn. */
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

type AttemptError = HeraldClientError | AttemptTimeout

const retryable = (error: AttemptError): boolean =>
  error._tag === "ServerUnreachable" || error._tag === "AttemptTimeout" ||
  (error._tag === "StorageUnavailable" && error.retryable)

/** The ledger, and a `call` for `runOpenLoop` that resolves once the publish succeeded or gave up. */
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

  const call = async (i: number, firstStartedAt: number): Promise<boolean> => {
    const item = options.item(i)
    for (let attempt = 0; ; attempt++) {
      const node = (options.firstNode(i) + attempt) % clients.length
      const client = clients[node]
      if (client === undefined) throw new Error(`no client for node ${node}`)
      const startedAt = attempt === 0 ? firstStartedAt : performance.now()
      ledger.attempts[i] = attempt + 1
      const exit = await Effect.runPromiseExit(client.notify(item).pipe(
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () => Effect.fail(new AttemptTimeout(`no answer within ${options.attemptTimeoutMs} ms`))
        })
      ))
      const endedAt = performance.now()
      if (Exit.isSuccess(exit)) {
        ledger.answeredAt[i] = endedAt
        ledger.successAttemptMs[i] = endedAt - startedAt
        ledger.acceptedBy[i] = node
        if (exit.value.deduplicated) ledger.deduplicated[i] = 1
        return true
      }
      const found = Cause.findErrorOption(exit.cause)
      const error = found._tag === "Some" ? found.value : undefined
      const tag = error?._tag ?? (Cause.hasInterruptsOnly(exit.cause) ? "Interrupted" : "Defect")
      const message = error?.message ?? Cause.pretty(exit.cause).split("\n").slice(0, 3).join(" | ")
      ledger.failures.push({ publish: i, node, startedAt, endedAt, tag, message })
      // An interrupted or crashed call says nothing about whether it stored: the same key makes retrying safe.
      if ((error !== undefined && !retryable(error)) || endedAt - firstStartedAt > options.deadlineMs) {
        ledger.gaveUp.push({ publish: i, tag, message })
        return false
      }
      // A dead node refuses within a millisecond: waiting before the next node would only add latency.
      const rounds = (attempt + 1) / clients.length
      if (Number.isInteger(rounds)) await sleep(Math.min(options.backoffMs.max, options.backoffMs.initial * 2 ** (rounds - 1)))
    }
  }

  return { ledger, call }
}
