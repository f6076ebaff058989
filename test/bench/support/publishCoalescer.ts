/**
 * Publish coalescing for the open-loop publisher (`publisher.ts`): the
 * per-publish `call(i, startedAt)` it drives becomes one send per batch.
 * Publishes started synchronously one after another (`runOpenLoop` starts
 * every due publish in one `pump`, so those are the ones of one timer tick)
 * go out together, `maxBatch` at most per send; each publish's promise
 * settles when its batch's send does, so the open loop still times and
 * counts every publish on its own.
 *
 * A batch is flushed on a microtask rather than `setImmediate`: every start
 * of one pump has happened by then, and a microtask waits for no I/O
 * callback of the loop turn, so coalescing adds no latency of its own. A
 * batch that reaches `maxBatch` is sent at once, inside the call that
 * filled it: with `maxBatch` 1 every publish is sent as it starts, exactly
 * as without coalescing.
 */

/** A publish the open loop has started: its index, and `performance.now()` when it started. */
export interface Started {
  readonly index: number
  readonly startedAt: number
}

/**
 * Sends a batch (1 ≤ size ≤ maxBatch); `sequence` numbers the batches from
 * 0, for round-robin over nodes. Resolves true when the batch was accepted,
 * false on a failure it has recorded itself; a rejection counts as false.
 */
export type SendBatch = (batch: ReadonlyArray<Started>, sequence: number) => Promise<boolean>

export interface Coalescer {
  /** What `runOpenLoop` calls per publish. */
  readonly call: (index: number, startedAt: number) => Promise<boolean>
  /** Batches sent so far, and the largest. */
  readonly sent: () => { readonly batches: number; readonly largest: number }
}

export const coalesce = (maxBatch: number, send: SendBatch): Coalescer => {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`maxBatch must be an integer >= 1, got ${maxBatch}`)
  let pending: Array<Started> = []
  let waiting: Array<(accepted: boolean) => void> = []
  let batches = 0
  let largest = 0

  const flush = () => {
    if (pending.length === 0) return
    const batch = pending
    const settle = waiting
    pending = []
    waiting = []
    largest = Math.max(largest, batch.length)
    const done = (accepted: boolean) => {
      for (const resolve of settle) resolve(accepted)
    }
    // As `runOpenLoop` does with a call that rejects: a send that throws fails its publishes rather than stranding them.
    let sending: Promise<boolean>
    try {
      sending = send(batch, batches++)
    } catch {
      sending = Promise.resolve(false)
    }
    sending.then(done, () => done(false))
  }

  const call = (index: number, startedAt: number) =>
    new Promise<boolean>((resolve) => {
      pending.push({ index, startedAt })
      waiting.push(resolve)
      if (pending.length >= maxBatch) flush()
      else if (pending.length === 1) queueMicrotask(flush)
    })

  return { call, sent: () => ({ batches, largest }) }
}
