/**
 * The top self-time functions of a `node --cpu-prof` profile (the embedded
 * Herald server's, with `--profile`): each sample's time delta goes to the
 * function it landed in, grouped by name and location. A native function
 * (a socket write, the garbage collector has none) is named with the
 * nearest caller outside Node's own modules, so "writeBuffer" says whose
 * writes they were. The profile covers the server's whole life (start,
 * connections, publishing, stop).
 */
import { Schema } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { round } from "./stats.ts"

const Profile = Schema.Struct({
  nodes: Schema.Array(Schema.Struct({
    id: Schema.Number,
    children: Schema.optional(Schema.Array(Schema.Number)),
    callFrame: Schema.Struct({ functionName: Schema.String, url: Schema.String, lineNumber: Schema.Number })
  })),
  samples: Schema.Array(Schema.Number),
  timeDeltas: Schema.Array(Schema.Number)
})
const decodeProfile = Schema.decodeUnknownSync(Profile)

export interface SelfTime {
  readonly function: string
  readonly location: string
  readonly selfMs: number
  /** Of all sampled time except `(idle)`. */
  readonly percent: number
}

export const topSelfTime = (profileDir: string, root: string, top = 15): { readonly file: string; readonly functions: ReadonlyArray<SelfTime> } | null => {
  const file = readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile"))
  if (file === undefined) return null
  const profile = decodeProfile(JSON.parse(readFileSync(join(profileDir, file), "utf8")))
  const byId = new Map(profile.nodes.map((node) => [node.id, node] as const))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const place = (url: string, line: number) => {
    const path = url.replace(/^file:\/\//, "")
    return `${path.startsWith(root) ? relative(root, path) : path}:${line + 1}`
  }
  const nearestCaller = (id: number): string => {
    for (let at = parentOf.get(id); at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)?.callFrame
      if (frame !== undefined && frame.url !== "" && !frame.url.startsWith("node:")) {
        return `via ${frame.functionName === "" ? "(anonymous)" : frame.functionName} ${place(frame.url, frame.lineNumber)}`
      }
    }
    return ""
  }
  const keyOf = new Map<number, { readonly name: string; readonly location: string }>()
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame
    const name = functionName === "" ? "(anonymous)" : functionName
    const native = url === "" && !name.startsWith("(")
    keyOf.set(node.id, { name, location: native ? nearestCaller(node.id) : url === "" ? "" : place(url, lineNumber) })
  }
  const micros = new Map<string, { readonly name: string; readonly location: string; us: number }>()
  let busy = 0
  profile.samples.forEach((id, i) => {
    const key = keyOf.get(id)
    const delta = profile.timeDeltas[i] ?? 0
    if (key === undefined) return
    if (key.name !== "(idle)") busy += delta
    const group = `${key.name} ${key.location}`
    const entry = micros.get(group) ?? { ...key, us: 0 }
    entry.us += delta
    micros.set(group, entry)
  })
  const functions = [...micros.values()]
    .filter((entry) => entry.name !== "(idle)")
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((entry) => ({ function: entry.name, location: entry.location, selfMs: round(entry.us / 1000, 1), percent: round(entry.us / busy * 100, 1) }))
  return { file: join(profileDir, file), functions }
}
