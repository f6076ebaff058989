/**
 * The comparison benchmark's command line: which systems, how many sockets,
 * what rate for how long, and the `--quick` configuration CI runs. A bad
 * flag prints one line naming it, then the usage, and exits 2 before
 * anything starts.
 */
import { DefaultNotifyCallsInFlight } from "@herald/client"
import { AppRpcs } from "@herald/domain"
import { existsSync } from "node:fs"
import { serverUrl } from "../../support/TestDatabase.ts"
import { benchFlags } from "./benchFlags.ts"

export const systemNames = ["herald", "herald-cluster", "ws", "socketio"] as const
export type SystemName = typeof systemNames[number]

export const usage = `usage: node test/bench/compare.ts [options]   (or: pnpm bench [options])
  --systems LIST           of herald, herald-cluster, ws, socketio (default all four)
  --sockets LIST           concurrent sockets, one user each (default 10000,25000,50000; --quick 1000)
  --rate LIST              notifications per second over all users, open loop (default 500; --quick 200)
  --seconds T              seconds of publishing per run (default 20; --quick 5)
  --generators N           socket load generator processes (default: one per 10,000 sockets)
  --connect-concurrency N  sockets opening at once over all generators (default 200)
  --max-in-flight N        publishes outstanding at most (default 2000)
  --publish-batch N        publishes falling due in the same tick go out in one call of up to N, for every
                           system (default 100, at most ${AppRpcs.MaxNotifyBatch}; 1 = one call per publish)
  --client-calls N         Notify calls each Herald client keeps open at once; publishes that find them all
                           open wait and go together in the next (default: the client's, ${DefaultNotifyCallsInFlight})
  --cluster-nodes N        Herald cluster nodes (default 3)
  --socketio-nodes N       Socket.IO nodes behind the Redis adapter (default 1)
  --warmup N               unmeasured publishes before each run, one per user in turn (default 300; --quick 100)
  --drain-timeout MS       after publishing, wait this long without progress for the last frames (default 10000)
  --pg-socket DIR|off      how the embedded Herald server reaches the machine's PostgreSQL: over the Unix socket
                           in DIR, as the embedded default reaches its own (default: /var/run/postgresql when
                           the socket is there), or over TCP with off; the cluster's nodes always use TCP
  --profile                run the embedded Herald server under node --cpu-prof; report its top self-time functions
  --alloc-profile          sample what the embedded Herald server allocates during the measured window, the
                           garbage collected already included; report the bytes per delivery, the share spent
                           copying effect's Context maps, and the top allocating functions (sampling costs CPU,
                           so that run's latency figures are not comparable; not with --heap-snapshot)
  --heap-snapshot          write a heap snapshot of the embedded Herald server once its sockets are open and idle;
                           report what it holds by object kind, per socket (the server stops while it writes
                           the snapshot, so that run's latency figures are not comparable)
  --quick                  1,000 sockets, 200/s for 5 s, every system; exits 1 if Herald lost or duplicated anything
  --json-only              no table on stderr
Every run (system x sockets x rate) gets fresh servers. Prints one JSON document on stdout;
exits 1 when Herald lost or duplicated a notification, 2 when a run could not be set up.
`

const { bad, values: args } = benchFlags(usage, {
  help: { type: "boolean", short: "h", default: false },
  systems: { type: "string" },
  sockets: { type: "string" },
  rate: { type: "string" },
  seconds: { type: "string" },
  generators: { type: "string" },
  "connect-concurrency": { type: "string" },
  "max-in-flight": { type: "string" },
  "publish-batch": { type: "string" },
  "client-calls": { type: "string" },
  "cluster-nodes": { type: "string" },
  "socketio-nodes": { type: "string" },
  "drain-timeout": { type: "string" },
  warmup: { type: "string" },
  "pg-socket": { type: "string" },
  profile: { type: "boolean", default: false },
  "alloc-profile": { type: "boolean", default: false },
  "heap-snapshot": { type: "boolean", default: false },
  quick: { type: "boolean", default: false },
  "json-only": { type: "boolean", default: false }
})

const int = (flag: string, raw: string, min: number): number => {
  const value = Number(raw)
  return Number.isInteger(value) && value >= min ? value : bad(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(raw)}`)
}
const intArg = (flag: string, raw: string | undefined, fallback: number, min = 1): number =>
  raw === undefined ? fallback : int(flag, raw, min)
const atMost = (flag: string, value: number, max: number): number =>
  value <= max ? value : bad(`--${flag} must be at most ${max}, got ${value}`)
const intList = (flag: string, raw: string | undefined, fallback: ReadonlyArray<number>): ReadonlyArray<number> => {
  if (raw === undefined) return fallback
  const items = raw.split(",").map((item) => item.trim())
  if (items.some((item) => item === "")) bad(`--${flag} must be a comma-separated list of integers, got ${JSON.stringify(raw)}`)
  return [...new Set(items.map((item) => int(flag, item, 1)))]
}
const isSystem = (name: string): name is SystemName => systemNames.some((system) => system === name)
const systemList = (raw: string | undefined): ReadonlyArray<SystemName> => {
  if (raw === undefined) return systemNames
  const names = raw.split(",").map((name) => name.trim())
  const unknown = names.filter((name) => !isSystem(name))
  if (unknown.length > 0 || names.length === 0) {
    bad(`--systems takes a list of ${systemNames.join(", ")}; unknown: ${unknown.map((name) => JSON.stringify(name)).join(", ")}`)
  }
  return systemNames.filter((system) => names.includes(system))
}

const DefaultPgSocketDir = "/var/run/postgresql"
const pgPort = new URL(serverUrl).port || "5432"
const hasSocket = (dir: string) => existsSync(`${dir}/.s.PGSQL.${pgPort}`)
const pgSocket = (raw: string | undefined): string | null => {
  if (raw === "off") return null
  if (raw === undefined) return hasSocket(DefaultPgSocketDir) ? DefaultPgSocketDir : null
  return hasSocket(raw) ? raw : bad(`--pg-socket: no PostgreSQL socket .s.PGSQL.${pgPort} in ${JSON.stringify(raw)}`)
}

const quick = args.quick
export const config = {
  quick,
  systems: systemList(args.systems),
  sockets: intList("sockets", args.sockets, quick ? [1000] : [10_000, 25_000, 50_000]),
  rates: intList("rate", args.rate, quick ? [200] : [500]),
  seconds: intArg("seconds", args.seconds, quick ? 5 : 20),
  generators: args.generators === undefined ? undefined : int("generators", args.generators, 1),
  connectConcurrency: intArg("connect-concurrency", args["connect-concurrency"], 200),
  maxInFlight: intArg("max-in-flight", args["max-in-flight"], 2000),
  // Herald's Notify takes this many items at most; every system gets the same batches, so it caps them all.
  publishBatch: atMost("publish-batch", intArg("publish-batch", args["publish-batch"], 100), AppRpcs.MaxNotifyBatch),
  // null leaves the Herald client's own default, so a run without the flag measures what apps get.
  clientCalls: args["client-calls"] === undefined ? null : int("client-calls", args["client-calls"], 1),
  clusterNodes: intArg("cluster-nodes", args["cluster-nodes"], 3, 2),
  socketioNodes: intArg("socketio-nodes", args["socketio-nodes"], 1),
  drainTimeoutMs: intArg("drain-timeout", args["drain-timeout"], 10_000),
  // Unmeasured publishes first, so connection pools and JIT are warm when the clock starts.
  warmup: intArg("warmup", args.warmup, quick ? 100 : 300, 0),
  // After the sockets are open, before RSS is read: handshakes' garbage has a chance to go.
  settleMs: quick ? 1_000 : 3_000,
  // The folder of the machine PostgreSQL's Unix socket the embedded Herald server connects through; null: TCP.
  pgSocketDir: pgSocket(args["pg-socket"]),
  profile: args.profile,
  // The sampler and the heap snapshot are both asked for with SIGUSR2.
  allocProfile: args["alloc-profile"] && args["heap-snapshot"]
    ? bad("--alloc-profile and --heap-snapshot both signal the server with SIGUSR2: use one at a time")
    : args["alloc-profile"],
  heapSnapshot: args["heap-snapshot"],
  jsonOnly: args["json-only"]
}
export type CompareConfig = typeof config
