/**
 * Sockets that lost their connection without the benchmark closing it (and,
 * in the kill phase, without their node dying): by close code, and the
 * first few in detail. `connectedForMs` and `pingsAnswered` tell a server
 * that timed out a socket it never pinged from one whose client went quiet.
 */
import type { Outage } from "./socketPool.ts"
import { round } from "./stats.ts"

export const outageSummary = (outages: ReadonlyArray<Outage>, urls: ReadonlyArray<string>, origin: number) => {
  const closeCodes: Record<string, number> = {}
  for (const o of outages) closeCodes[String(o.closeCode)] = (closeCodes[String(o.closeCode)] ?? 0) + 1
  return {
    count: outages.length,
    closeCodes,
    resynced: outages.filter((o) => o.resyncedAt !== undefined).length,
    samplesTimesFrom: "first publish",
    samples: outages.slice(0, 5).map((o) => ({
      socket: o.socket,
      node: urls.indexOf(o.lostUrl),
      closeCode: o.closeCode,
      closedMs: round(o.closedAt - origin, 1),
      connectedForMs: round(o.closedAt - o.connectedAt, 1),
      pingsAnswered: o.pingsAnswered,
      resyncedAfterMs: o.resyncedAt === undefined ? null : round(o.resyncedAt - o.closedAt, 1)
    }))
  }
}
