/**
 * Everything the benchmark knows about a publish that succeeded but never
 * reached its socket, gathered while the nodes still run: its attempts, the
 * user's other publishes and the cursors they arrived with, the socket's
 * last cursor, and what the user's inbox holds. Enough to tell "stored but
 * never fanned out" from "fanned out but not written" without rerunning.
 */
import type { HeraldClient } from "@herald/client"
import { Effect } from "effect"
import type { Receipts } from "./receipts.ts"
import type { PublishLedger } from "./retryingPublish.ts"
import type { SocketPool } from "./socketPool.ts"
import { round } from "./stats.ts"

export interface LostContext {
  /** Times in the description are relative to this (the kill, or the first publish). */
  readonly origin: number
  readonly sockets: number
  readonly publishes: number
  readonly startedAt: Float64Array
  readonly ok: Uint8Array
  readonly ledger: PublishLedger
  readonly receipts: Receipts
  readonly pool: SocketPool
  /** A client of a node that is still up. */
  readonly client: HeraldClient["Service"]
  readonly prefix: string
}

export const describeLost = async (ctx: LostContext, index: number, user: string) => {
  const at = (t: number | undefined) => t === undefined || Number.isNaN(t) ? null : round(t - ctx.origin, 1)
  const socket = index % ctx.sockets
  const userPublishes: Array<Record<string, unknown>> = []
  for (let j = socket; j < ctx.publishes; j += ctx.sockets) {
    userPublishes.push({
      index: j,
      startedMs: at(ctx.startedAt[j]),
      answeredMs: at(ctx.ledger.answeredAt[j]),
      ok: ctx.ok[j] === 1,
      receivedMs: at(ctx.receipts.receivedAt[j]),
      cursor: ctx.receipts.cursorOf[j] || null
    })
  }
  const inbox = await Effect.runPromise(
    ctx.client.listInbox({ userId: user, limit: 100 }).pipe(
      Effect.map((page) =>
        page.items.map((n) => ({ cursor: n.cursor, key: n.idempotencyKey?.replace(ctx.prefix, "") ?? null, id: n.id }))
      ),
      Effect.catch((error) => Effect.succeed(`ListInbox failed: ${error._tag}: ${error.message}`))
    )
  )
  return {
    index,
    user,
    socket,
    startedMs: at(ctx.startedAt[index]),
    answeredMs: at(ctx.ledger.answeredAt[index]),
    acceptedBy: ctx.ledger.acceptedBy[index],
    deduplicated: ctx.ledger.deduplicated[index] === 1,
    failedAttempts: ctx.ledger.failures.filter((f) => f.publish === index).map((f) => ({
      node: f.node,
      tag: f.tag,
      startedMs: at(f.startedAt),
      endedMs: at(f.endedAt),
      message: f.message.slice(0, 240)
    })),
    socketLastCursor: ctx.pool.lastCursor(socket),
    userPublishes,
    inbox
  }
}
