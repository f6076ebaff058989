/**
 * The human-readable summary of the cluster benchmark, printed on stderr
 * next to its JSON: one block per phase, latencies in the delivery table's
 * columns.
 */
import { cells, type Latency, row } from "./table.ts"

export interface PhaseLines {
  readonly phase: string
  readonly nodes: ReadonlyArray<{ readonly index: number; readonly killed: boolean; readonly rssMb: number | null; readonly peakRssMb: number | null }>
  readonly sockets: { readonly count: number; readonly connectTotalMs: number; readonly connectMs: Latency; readonly closedUnexpectedly: number }
  readonly publish: {
    readonly count: number
    readonly succeeded: number
    readonly failed: number
    readonly retriedPublishes: number
    readonly retries: number
    readonly perSecond: number
    readonly callLatencyMs: Latency
  }
  readonly delivery: {
    readonly received: number
    readonly lost: number
    readonly duplicates: number
    readonly wireDuplicates: number
    readonly misdelivered: number
    readonly latencyMs: Latency
  }
  readonly killed?: {
    readonly latencySpike: { readonly before: { readonly latencyMs: Latency }; readonly after: { readonly latencyMs: Latency } }
    readonly recovery: { readonly thresholdMs: number | null; readonly latencyRecoveredAfterMs: number | null }
    readonly mailboxes: {
      readonly shardsOnKilledNode: number
      readonly shardsReownedAfterMs: number | null
      readonly firstAffectedPublishOkAfterMs: number | null
      readonly latencyMs: { readonly affected: Latency; readonly unaffected: Latency }
    }
    readonly reconnect: { readonly sockets: number; readonly resynced: number; readonly allResyncedAfterMs: number | null; readonly resyncMs: Latency }
  }
}

const show = (value: number | null, unit = " ms") => value === null ? "-" : `${value.toFixed(0)}${unit}`

const phaseBlock = (p: PhaseLines): string => {
  const memory = p.nodes.map((n) => `node${n.index}${n.killed ? " (killed)" : ""} ${n.rssMb ?? "?"}/${n.peakRssMb ?? "?"}`).join(", ")
  let text = `\n${p.phase}: ${p.sockets.count} sockets, ${p.publish.count} publishes, ${p.publish.perSecond.toFixed(0)}/s sustained; ` +
    `connect ${p.sockets.connectTotalMs.toFixed(0)} ms total\n` +
    row("latency (ms)", ["p50", "p95", "p99", "max"]) +
    row("socket connect", cells(p.sockets.connectMs)) +
    row("publish call", cells(p.publish.callLatencyMs)) +
    row("publish → socket", cells(p.delivery.latencyMs))
  if (p.killed !== undefined) {
    const k = p.killed
    text += row("  5 s before kill", cells(k.latencySpike.before.latencyMs)) +
      row("  5 s after kill", cells(k.latencySpike.after.latencyMs)) +
      row("    its shards' users", cells(k.mailboxes.latencyMs.affected)) +
      row("    other users", cells(k.mailboxes.latencyMs.unaffected)) +
      row("  resync after kill", cells(k.reconnect.resyncMs)) +
      `  killed node's sockets: ${k.reconnect.resynced}/${k.reconnect.sockets} resynced, all by ${show(k.reconnect.allResyncedAfterMs)}\n` +
      `  its ${k.mailboxes.shardsOnKilledNode} shards re-owned after ${show(k.mailboxes.shardsReownedAfterMs)}; ` +
      `first publish to their users through after ${show(k.mailboxes.firstAffectedPublishOkAfterMs)}; ` +
      `latency back under ${show(k.recovery.thresholdMs)} after ${show(k.recovery.latencyRecoveredAfterMs)}\n`
  }
  text += `  published ${p.publish.succeeded} (failed ${p.publish.failed}, ${p.publish.retriedPublishes} needed ${p.publish.retries} retries), ` +
    `received ${p.delivery.received}, lost ${p.delivery.lost}, duplicates ${p.delivery.duplicates} (wire ${p.delivery.wireDuplicates}), ` +
    `misdelivered ${p.delivery.misdelivered}, sockets closed early ${p.sockets.closedUnexpectedly}\n` +
    `  RSS/peak MiB: ${memory}\n`
  return text
}

export const clusterTable = (phases: ReadonlyArray<PhaseLines>): string => phases.map(phaseBlock).join("")
