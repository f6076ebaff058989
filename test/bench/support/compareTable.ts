/**
 * The comparison's readable summary on stderr: one line per run (system ×
 * sockets × rate) with the publish rate the publisher achieved (it falls
 * below the asked rate when --max-in-flight calls are outstanding) and the
 * publishes per HTTP request (the bench's batches, merged further by
 * Herald's client), the headline figures and the correctness
 * counts,
 * then the Herald ÷ competitor ratios, then skipped or failed runs.
 */
import type { Headline, RunFigures, ratios } from "./compareFigures.ts"

interface Skipped {
  readonly system: string
  readonly sockets: number
  readonly ratePerSecond: number
  readonly reason: string
}

const columns: ReadonlyArray<readonly [keyof Headline, string]> = [
  ["latencyP50Ms", "p50 ms"],
  ["latencyP95Ms", "p95 ms"],
  ["latencyP99Ms", "p99 ms"],
  ["latencyMaxMs", "max ms"],
  ["sustainedPerSecond", "deliv/s"],
  ["connectPerSecond", "conn/s"],
  ["rssPerIdleSocketKb", "KB/sock"],
  ["cpuMsPer1000Deliveries", "cpu ms/1k"]
]

const cell = (value: number | null, width = 10) => (value === null ? "-" : String(value)).padStart(width)

export const compareTable = (
  runs: ReadonlyArray<RunFigures>,
  ratioRows: ReturnType<typeof ratios>,
  skipped: ReadonlyArray<Skipped>
): string => {
  const head = `  ${"system".padEnd(16)}${"sockets".padStart(8)}${"rate".padStart(6)}${"offered".padStart(9)}${"pub/req".padStart(9)}` +
    columns.map(([, label]) => label.padStart(10)).join("") +
    `${"store/1k".padStart(10)}${"lost".padStart(6)}${"dup".padStart(5)}\n`
  const lines = runs.map((run) =>
    `  ${run.system.padEnd(16)}${String(run.sockets).padStart(8)}${String(run.ratePerSecond).padStart(6)}` +
    cell(run.publish.offeredPerSecond, 9) + cell(run.publish.publishesPerRequest, 9) +
    columns.map(([key]) => cell(run.headline[key])).join("") +
    cell(run.cpu.storeCpuMsPer1000Deliveries) +
    cell(run.correctness.lost, 6) + cell(run.correctness.duplicates, 5) + "\n"
  )
  const ratioHead = `\n  ratios (Herald ÷ competitor; latency, KB, CPU: below 1 favours Herald; deliv/s, conn/s: above 1 does)\n` +
    `  ${"pair".padEnd(24)}${"sockets".padStart(8)}${"rate".padStart(6)}` + columns.map(([, label]) => label.padStart(10)).join("") + "\n"
  const ratioLines = ratioRows.map((row) =>
    `  ${row.pair.padEnd(24)}${String(row.sockets).padStart(8)}${String(row.ratePerSecond).padStart(6)}` +
    columns.map(([key]) => cell(row.ratios[key] ?? null)).join("") + "\n"
  )
  const skippedLines = skipped.map((s) => `  not run: ${s.system} ${s.sockets} sockets ${s.ratePerSecond}/s: ${s.reason}\n`)
  return `\ncomparison: publish → socket latency, sustained deliveries, connection set-up, memory and CPU per system\n` +
    head + lines.join("") + (ratioRows.length > 0 ? ratioHead + ratioLines.join("") : "") +
    (skippedLines.length > 0 ? `\n${skippedLines.join("")}` : "")
}
