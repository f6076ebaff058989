/**
 * The publish and delivery sections of a phase's report, from the open
 * loop's result, the retrying publisher's ledger and the sockets' receipts.
 * A publish's latencies start at its first attempt, so retries count in them.
 */
import type { OpenLoopResult } from "./publisher.ts"
import type { Receipts } from "./receipts.ts"
import type { PublishLedger } from "./retryingPublish.ts"
import { round, summarize } from "./stats.ts"

const tally = (tags: ReadonlyArray<{ readonly tag: string }>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const { tag } of tags) counts[tag] = (counts[tag] ?? 0) + 1
  return counts
}

export const publishSummary = (loop: OpenLoopResult, ledger: PublishLedger) => {
  const count = loop.ok.length
  const succeeded = loop.ok.reduce((sum, ok) => sum + ok, 0)
  let retriedPublishes = 0
  let deduplicatedAnswers = 0
  const callMs: Array<number> = []
  const attemptMs: Array<number> = []
  for (let i = 0; i < count; i++) {
    if ((ledger.attempts[i] ?? 0) > 1) retriedPublishes++
    deduplicatedAnswers += ledger.deduplicated[i] ?? 0
    if (loop.ok[i] !== 1) continue
    callMs.push((ledger.answeredAt[i] ?? 0) - (loop.startedAt[i] ?? 0))
    attemptMs.push(ledger.successAttemptMs[i] ?? 0)
  }
  return {
    count,
    succeeded,
    failed: loop.failures,
    gaveUpByTag: tally(ledger.gaveUp),
    gaveUpSamples: ledger.gaveUp.slice(0, 3).map((g) => ({ ...g, message: g.message.slice(0, 400) })),
    retriedPublishes,
    retries: ledger.failures.length,
    retriesByTag: tally(ledger.failures),
    // An earlier attempt had stored it (its answer was lost with the node): the key kept it single.
    deduplicatedAnswers,
    // Successful publishes over the time from the first attempt to the last answer.
    perSecond: round(succeeded / (loop.totalMs / 1000), 1),
    offeredPerSecond: round(loop.sendSpanMs > 0 ? (count - 1) / (loop.sendSpanMs / 1000) : 0, 1),
    // From the first attempt to the successful answer, retries and backoff included.
    callLatencyMs: summarize(callMs),
    successfulAttemptMs: summarize(attemptMs),
    scheduleLagMs: summarize(Array.from(loop.lagMs)),
    maxInFlightSeen: loop.maxInFlightSeen
  }
}

/** The delivery section, and the indices of (the first ten) lost publishes for a closer look. */
export const deliverySummary = (loop: OpenLoopResult, receipts: Receipts, onKilledNode: ((i: number) => boolean) | undefined) => {
  const latencies: Array<number> = []
  const lostIndices: Array<number> = []
  let lost = 0
  let lostOnKilledNode = 0
  let deliveredDespiteFailure = 0
  let viaReplay = 0
  for (let i = 0; i < loop.ok.length; i++) {
    const at = receipts.receivedAt[i] ?? Number.NaN
    if (loop.ok[i] !== 1) {
      if (!Number.isNaN(at)) deliveredDespiteFailure++
    } else if (!Number.isNaN(at)) {
      latencies.push(at - (loop.startedAt[i] ?? at))
      viaReplay += receipts.viaReplay[i] ?? 0
    } else {
      lost++
      if (onKilledNode?.(i) === true) lostOnKilledNode++
      if (lostIndices.length < 10) lostIndices.push(i)
    }
  }
  const c = receipts.counts
  return {
    lostIndices,
    section: {
      received: latencies.length,
      lost,
      ...(onKilledNode === undefined ? {} : { lostOnKilledNodeSockets: lostOnKilledNode }),
      duplicates: c.duplicates,
      duplicatesWithOtherId: c.duplicatesWithOtherId,
      wireDuplicates: c.wireDuplicates,
      droppedByCursor: c.droppedByCursor,
      droppedFirstCopies: c.droppedFirstCopies,
      misdelivered: c.misdelivered,
      unmatched: c.unmatched,
      warmupFrames: c.ignored,
      replayedFrames: c.replayedFrames,
      firstReceivedViaReplay: viaReplay,
      deliveredDespiteFailure,
      latencyMs: summarize(latencies)
    }
  }
}
