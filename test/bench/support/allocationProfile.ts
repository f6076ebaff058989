/**
 * What the embedded Herald server allocated during the measured window
 * (`--alloc-profile`, sampled by `allocationSampler.ts`): the bytes sampled,
 * the functions that allocated most themselves, and the share that went to
 * copying effect's `Context` maps (a context's map is copied whole when two
 * are merged and at every eighth service added to a fiber's context).
 */
import { Schema } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { round } from "./stats.ts"

interface Node {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly selfSize: number
  readonly children: ReadonlyArray<Node>
}
const NodeSchema: Schema.Codec<Node> = Schema.Struct({
  callFrame: Schema.Struct({ functionName: Schema.String, url: Schema.String, lineNumber: Schema.Number }),
  selfSize: Schema.Number,
  children: Schema.Array(Schema.suspend((): Schema.Codec<Node> => NodeSchema))
})
const decodeProfile = Schema.decodeUnknownSync(Schema.Struct({ head: NodeSchema }))

export interface AllocationSummary {
  readonly file: string
  /** Over the measured window, sampled every 16 KiB on average. */
  readonly sampledMb: number
  readonly perDeliveryKb: number
  readonly contextCopiesMb: number
  readonly contextCopiesPercent: number
  readonly top: ReadonlyArray<{ readonly function: string; readonly location: string; readonly mb: number; readonly percent: number }>
}

// Node's builtins (`Map`, its `set`, the iterator that fills it) have no url.
const isMapBuiltin = (node: Node) => node.callFrame.url === "" && ["Map", "set", "next", "forEach"].includes(node.callFrame.functionName)
const isContextModule = (node: Node) => node.callFrame.url.endsWith("/effect/dist/Context.js")

export const summarizeAllocations = (dir: string, root: string, deliveries: number, top = 15): AllocationSummary | null => {
  const file = readdirSync(dir).find((name) => name.endsWith(".heapprofile"))
  if (file === undefined) return null
  const { head } = decodeProfile(JSON.parse(readFileSync(join(dir, file), "utf8")))
  const self = new Map<string, { readonly function: string; readonly location: string; bytes: number }>()
  let total = 0
  let contextCopies = 0
  const walk = (node: Node, parents: ReadonlyArray<Node>) => {
    total += node.selfSize
    if (isMapBuiltin(node) && parents.slice(-3).some(isContextModule)) contextCopies += node.selfSize
    const { functionName, lineNumber, url } = node.callFrame
    const location = url === "" ? "" : `${url.replace(`file://${root}/`, "").replace(/^.*node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, "")}:${lineNumber + 1}`
    const key = `${functionName} ${location}`
    const entry = self.get(key) ?? { function: functionName || "(anonymous)", location, bytes: 0 }
    entry.bytes += node.selfSize
    self.set(key, entry)
    for (const child of node.children) walk(child, [...parents.slice(-3), node])
  }
  walk(head, [])
  const mb = (bytes: number) => round(bytes / 1048576, 1)
  const percent = (bytes: number) => round((bytes / total) * 100, 1)
  return {
    file: join(dir, file),
    sampledMb: mb(total),
    perDeliveryKb: round(total / 1024 / Math.max(1, deliveries), 1),
    contextCopiesMb: mb(contextCopies),
    contextCopiesPercent: percent(contextCopies),
    top: [...self.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top)
      .map((entry) => ({ function: entry.function, location: entry.location, mb: mb(entry.bytes), percent: percent(entry.bytes) }))
  }
}
