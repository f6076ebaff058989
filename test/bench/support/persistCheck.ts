/**
 * The persist benchmark's correctness checks (`../persist.ts`), on the run's
 * own database:
 *
 * - `checkRows`: the `notifications` table holds exactly one row per
 *   acknowledged item and nothing else. The row count is the headline; the
 *   titles (which carry the item's number) say which items are missing,
 *   stored twice, or stored although their call failed.
 * - `checkDedup`: acknowledged items sent again with the same idempotency
 *   keys all come back `deduplicated: true` with the id they were first
 *   given, and the row count does not move.
 */
import type { HeraldClient } from "@herald/client"
import { Effect } from "effect"
import { query } from "../../support/TestDatabase.ts"
import { type BatchCall, type BatchPublisher, notifyOnce, type SampledItem } from "./batchPublisher.ts"

export const countRows = async (databaseUrl: string): Promise<number> => {
  const rows = await Effect.runPromise(query<{ readonly n: number }>(databaseUrl, "SELECT count(*)::int AS n FROM notifications"))
  return rows[0]?.n ?? Number.NaN
}

export interface RowCheck {
  readonly rows: number
  readonly expected: number
  /** Acknowledged, but no row has its title. */
  readonly lost: number
  /** Items with more than one row. */
  readonly duplicated: number
  /** Items whose call failed (and was not settled) that were stored anyway. */
  readonly storedUnacknowledged: number
  /** Rows whose title is not one of this run's items. */
  readonly foreign: number
  readonly ok: boolean
}

/** `acknowledged` are the calls that succeeded (settled ones included); every item is below `issued`. */
export const checkRows = async (
  databaseUrl: string,
  runId: string,
  issued: number,
  acknowledged: ReadonlyArray<BatchCall>
): Promise<RowCheck> => {
  const acked = new Uint8Array(issued)
  let expected = 0
  for (const call of acknowledged) {
    acked.fill(1, call.first, call.first + call.size)
    expected += call.size
  }
  const copies = new Uint8Array(issued)
  const prefix = `persist ${runId} #`
  let foreign = 0
  const titles = await Effect.runPromise(query<{ readonly title: string }>(databaseUrl, "SELECT title FROM notifications"))
  for (const { title } of titles) {
    const n = title.startsWith(prefix) ? Number(title.slice(prefix.length)) : Number.NaN
    if (!Number.isInteger(n) || n < 0 || n >= issued) foreign++
    // Saturates at 255, which is plenty to tell one copy from several.
    else copies[n] = Math.min(255, (copies[n] ?? 0) + 1)
  }
  let lost = 0
  let duplicated = 0
  let storedUnacknowledged = 0
  for (let n = 0; n < issued; n++) {
    const stored = copies[n] ?? 0
    if (stored > 1) duplicated++
    if (acked[n] === 1 && stored === 0) lost++
    if (acked[n] !== 1 && stored > 0) storedUnacknowledged++
  }
  const rows = titles.length
  return {
    rows,
    expected,
    lost,
    duplicated,
    storedUnacknowledged,
    foreign,
    ok: rows === expected && lost === 0 && duplicated === 0 && storedUnacknowledged === 0 && foreign === 0
  }
}

export interface DedupCheck {
  readonly sent: number
  readonly calls: number
  readonly deduplicated: number
  readonly notDeduplicated: number
  /** Deduplicated, but answered with another id than the item was first given. */
  readonly idChanged: number
  readonly failedCalls: number
  readonly errorsByTag: Readonly<Record<string, number>>
  readonly latencyMs: ReadonlyArray<number>
  readonly rowsBefore: number
  readonly rowsAfter: number
  readonly ok: boolean
}

/** Sends `sample` again in calls of `batch` items, one call at a time, so the answers are not shaped by load. */
export const checkDedup = async (
  client: HeraldClient["Service"],
  publisher: BatchPublisher,
  sample: ReadonlyArray<SampledItem>,
  batch: number,
  databaseUrl: string,
  callTimeoutMs: number
): Promise<DedupCheck> => {
  const rowsBefore = await countRows(databaseUrl)
  let calls = 0
  let deduplicated = 0
  let notDeduplicated = 0
  let idChanged = 0
  let failedCalls = 0
  const errorsByTag: Record<string, number> = {}
  const latencyMs: Array<number> = []
  for (let start = 0; start < sample.length; start += batch) {
    const chunk = sample.slice(start, start + batch)
    const startedAt = performance.now()
    const outcome = await notifyOnce(client, chunk.map((entry) => publisher.item(entry.index)), callTimeoutMs)
    latencyMs.push(performance.now() - startedAt)
    calls++
    if (outcome._tag === "failed") {
      failedCalls++
      errorsByTag[outcome.tag] = (errorsByTag[outcome.tag] ?? 0) + 1
      continue
    }
    outcome.results.forEach((result, i) => {
      if (!result.deduplicated) notDeduplicated++
      else if (result.id !== chunk[i]?.id) idChanged++
      else deduplicated++
    })
  }
  const rowsAfter = await countRows(databaseUrl)
  return {
    sent: sample.length,
    calls,
    deduplicated,
    notDeduplicated,
    idChanged,
    failedCalls,
    errorsByTag,
    latencyMs,
    rowsBefore,
    rowsAfter,
    ok: sample.length > 0 && deduplicated === sample.length && rowsAfter === rowsBefore
  }
}
