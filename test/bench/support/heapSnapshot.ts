/**
 * What a V8 heap snapshot of the embedded server holds, by object kind: how
 * many and how many bytes, and both per socket, so what each idle socket
 * costs can be read off (`--heap-snapshot`). A snapshot holds only live
 * objects (V8 collects garbage first). Strings are one kind, whatever their
 * text; source code is mostly in the process baseline, not per socket.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"

export interface HeapKind {
  /** V8's node type and the constructor or kind name, e.g. `object Socket`, `closure`, `string`. */
  readonly kind: string
  readonly count: number
  readonly kb: number
  readonly perSocket: number
  readonly bytesPerSocket: number
}

export interface HeapSummary {
  readonly file: string
  readonly totalMb: number
  readonly sockets: number
  readonly top: ReadonlyArray<HeapKind>
}

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: ReadonlyArray<string>; readonly node_types: ReadonlyArray<unknown> } }
  readonly nodes: ReadonlyArray<number>
  readonly strings: ReadonlyArray<string>
}

const isSnapshot = (value: unknown): value is Snapshot =>
  typeof value === "object" && value !== null && "snapshot" in value && "nodes" in value && "strings" in value

export const summarizeHeap = (file: string, sockets: number, limit = 20): HeapSummary | null => {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"))
  if (!isSnapshot(parsed)) return null
  const { node_fields: fields, node_types: types } = parsed.snapshot.meta
  const typeNames = types[0]
  if (!Array.isArray(typeNames)) return null
  const width = fields.length
  const typeAt = fields.indexOf("type")
  const nameAt = fields.indexOf("name")
  const sizeAt = fields.indexOf("self_size")
  const kinds = new Map<string, { count: number; bytes: number }>()
  let total = 0
  for (let i = 0; i < parsed.nodes.length; i += width) {
    const type = String(typeNames[parsed.nodes[i + typeAt] ?? 0])
    const size = parsed.nodes[i + sizeAt] ?? 0
    // A string's or code's name is its text; anything else is named by its constructor or kind.
    const name = type.includes("string") || type === "code" ? "" : (parsed.strings[parsed.nodes[i + nameAt] ?? 0] ?? "").slice(0, 48)
    const kind = type.includes("string") ? "string" : name === "" ? type : `${type} ${name}`
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += size
    kinds.set(kind, entry)
    total += size
  }
  const perSocket = (n: number) => sockets > 0 ? Math.round((n / sockets) * 100) / 100 : 0
  const top = [...kinds].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, limit).map(([kind, { bytes, count }]) => ({
    kind,
    count,
    kb: Math.round(bytes / 1000),
    perSocket: perSocket(count),
    bytesPerSocket: Math.round(perSocket(bytes))
  }))
  return { file, totalMb: Math.round(total / 1e5) / 10, sockets, top }
}

/**
 * The file in `dir` whose name ends in `ending` once it has been written (its size unchanged for a second),
 * or null after `timeoutMs`.
 */
export const fileWritten = async (dir: string, ending: string, timeoutMs: number): Promise<string | null> => {
  const deadline = Date.now() + timeoutMs
  let last = { file: "", size: -1, since: Date.now() }
  while (Date.now() < deadline) {
    await sleep(250)
    const name = readdirSync(dir).find((entry) => entry.endsWith(ending))
    if (name === undefined) continue
    const file = join(dir, name)
    const size = statSync(file).size
    if (file !== last.file || size !== last.size) last = { file, size, since: Date.now() }
    else if (size > 0 && Date.now() - last.since >= 1_000) return file
  }
  return null
}
