/**
 * The human-readable summary the benchmark prints on stderr next to its JSON.
 */
import type { Summary } from "./stats.ts"

export type Latency = Summary | { readonly count: 0 }

export interface TableInput {
  readonly config: { readonly sockets: number; readonly notifications: number; readonly ratePerSecond: number }
  readonly sockets: { readonly totalMs: number; readonly ratePerSecond: number; readonly connectMs: Latency; readonly closedUnexpectedly: number }
  readonly publish: {
    readonly succeeded: number
    readonly failures: number
    readonly ratePerSecondAchieved: number
    readonly callLatencyMs: Latency
    readonly scheduleLagMs: Latency
  }
  readonly delivery: {
    readonly received: number
    readonly lost: number
    readonly duplicated: number
    readonly misdelivered: number
    readonly latencyMs: Latency
    readonly latencyFromScheduledMs: Latency
  }
  readonly server: { readonly rssMb: number | null; readonly peakRssMb: number | null; readonly logErrors: number }
}

export const cells = (s: Latency): Array<string> =>
  "p50" in s ? [s.p50, s.p95, s.p99, s.max].map((v) => v.toFixed(1)) : ["-", "-", "-", "-"]

export const row = (label: string, values: ReadonlyArray<string>) =>
  `  ${label.padEnd(22)}${values.map((v) => v.padStart(10)).join("")}\n`

export const table = (r: TableInput): string =>
  `\ndelivery benchmark: ${r.config.sockets} sockets, ${r.config.notifications} notifications at ${r.config.ratePerSecond}/s\n` +
  `  connect: ${r.sockets.totalMs.toFixed(0)} ms total, ${r.sockets.ratePerSecond.toFixed(0)} sockets/s; ` +
  `publish achieved ${r.publish.ratePerSecondAchieved.toFixed(0)}/s\n` +
  row("latency (ms)", ["p50", "p95", "p99", "max"]) +
  row("socket connect", cells(r.sockets.connectMs)) +
  row("publish call", cells(r.publish.callLatencyMs)) +
  row("publish → socket", cells(r.delivery.latencyMs)) +
  row("slot → socket", cells(r.delivery.latencyFromScheduledMs)) +
  row("schedule lag", cells(r.publish.scheduleLagMs)) +
  `  published ${r.publish.succeeded} (failed ${r.publish.failures}), received ${r.delivery.received}, ` +
  `lost ${r.delivery.lost}, duplicated ${r.delivery.duplicated}, misdelivered ${r.delivery.misdelivered}, ` +
  `sockets closed early ${r.sockets.closedUnexpectedly}\n` +
  `  server RSS ${r.server.rssMb ?? "?"} MB (peak ${r.server.peakRssMb ?? "?"} MB), log errors ${r.server.logErrors}\n`
