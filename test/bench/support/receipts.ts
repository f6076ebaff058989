/**
 * What the sockets received, by publish index (read back from the
 * idempotency key). Two views, because a reconnecting client sees some
 * frames twice by design:
 *
 * - the wire: every notification frame as it arrived;
 * - the app: what a client emits after the real client's dedupe (a frame
 *   whose cursor is not above the last one received is dropped).
 *
 * A duplicate is the same publish emitted to the app twice; frames the
 * dedupe dropped are counted apart, and those that were the first copy of
 * their publish are called out, since dropping them loses a notification.
 */
import type { FrameInfo, ReceivedNotification } from "./socketPool.ts"

export interface ReceiptsOptions {
  readonly count: number
  /** Keys of measured publishes are `prefix + index`. */
  readonly prefix: string
  /** Keys with this prefix (warm-up) are counted and otherwise ignored. */
  readonly ignorePrefix: string
  readonly userOf: (index: number) => string
}

export const makeReceipts = (options: ReceiptsOptions) => {
  const { count, prefix } = options
  /** The first time the app saw each publish; NaN until then. */
  const receivedAt = new Float64Array(count).fill(Number.NaN)
  /** 1 when that first copy came from a resume's replay rather than live. */
  const viaReplay = new Uint8Array(count)
  const wireCopies = new Uint16Array(count)
  /** The cursor of that first copy; 0 until then. */
  const cursorOf = new Int32Array(count)
  const firstId: Array<string | undefined> = new Array(count)
  const counts = {
    /** A publish emitted to the app a second time. */
    duplicates: 0,
    /** ...of which under another notification id: stored twice despite the idempotency key. */
    duplicatesWithOtherId: 0,
    /** Frames for a publish that had already arrived on this socket (dropped or not). */
    wireDuplicates: 0,
    /** Frames the cursor dedupe dropped. */
    droppedByCursor: 0,
    /** ...that were the first copy of their publish: an out-of-order frame the app never sees. */
    droppedFirstCopies: 0,
    misdelivered: 0,
    unmatched: 0,
    ignored: 0,
    replayedFrames: 0
  }
  let lastProgressAt = performance.now()

  const onNotification = (socketUser: string, n: ReceivedNotification, at: number, info: FrameInfo) => {
    lastProgressAt = at
    if (info.replay) counts.replayedFrames++
    const key = n.idempotencyKey ?? ""
    if (key.startsWith(options.ignorePrefix)) return void counts.ignored++
    const index = key.startsWith(prefix) ? Number(key.slice(prefix.length)) : -1
    if (!Number.isInteger(index) || index < 0 || index >= count) return void counts.unmatched++
    if (n.userId !== socketUser || options.userOf(index) !== socketUser) return void counts.misdelivered++
    const copies = (wireCopies[index] ?? 0) + 1
    wireCopies[index] = copies
    if (copies > 1) counts.wireDuplicates++
    if (!info.fresh) {
      counts.droppedByCursor++
      if (copies === 1) counts.droppedFirstCopies++
      return
    }
    if (!Number.isNaN(receivedAt[index] ?? Number.NaN)) {
      counts.duplicates++
      if (firstId[index] !== n.id) counts.duplicatesWithOtherId++
      return
    }
    receivedAt[index] = at
    cursorOf[index] = n.cursor
    firstId[index] = n.id
    if (info.replay) viaReplay[index] = 1
  }

  return {
    receivedAt,
    viaReplay,
    cursorOf,
    counts,
    onNotification,
    lastProgressAt: () => lastProgressAt,
    received: (index: number) => !Number.isNaN(receivedAt[index] ?? Number.NaN)
  }
}

export type Receipts = ReturnType<typeof makeReceipts>
