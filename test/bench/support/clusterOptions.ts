/**
 * The cluster benchmark's command line: options, their defaults (the full
 * run and `--quick`), and the fixed retry and reconnect policies. A bad
 * option prints the usage and exits 2 before anything starts.
 */
import { benchFlags } from "./benchFlags.ts"

export const usage = `usage: node test/bench/cluster.ts [options]   (or: pnpm bench:cluster -- [options])
  --sockets N              sockets, one user each, spread over the nodes (default 10000; --quick 1500)
  --rate N                 publishes per second, open loop (default 300)
  --duration S             seconds of publishing per phase (default 30; --quick 15)
  --phase P                steady, kill or both (default both)
  --nodes N                cluster nodes (default 3)
  --kill-node I            which node the kill phase kills (default 1)
  --failover D             HERALD_CLUSTER_FAILOVER (default "5 seconds")
  --redis-url URL          use this Redis rather than a private redis-server per phase
  --warmup N               unmeasured publishes before each phase (default 300)
  --max-in-flight N        concurrent publishes at most, retries included (default 5000)
  --connect-concurrency N  sockets opening at once (default 200)
  --drain-timeout MS       after publishing, wait this long without progress for the last frames (default 15000)
  --quick                  the small configuration
  --json-only              no table on stderr
Server settings not set by the benchmark (HERALD_PUBLISH_TIMEOUT, …) pass through from its environment.
Prints one JSON document on stdout; exits 1 when a notification is lost, duplicated or misdelivered, 2 when setup fails.
`

const flags = benchFlags(usage, {
  help: { type: "boolean", short: "h", default: false },
  sockets: { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
  phase: { type: "string" },
  nodes: { type: "string" },
  "kill-node": { type: "string" },
  failover: { type: "string" },
  "redis-url": { type: "string" },
  warmup: { type: "string" },
  "max-in-flight": { type: "string" },
  "connect-concurrency": { type: "string" },
  "drain-timeout": { type: "string" },
  quick: { type: "boolean", default: false },
  "json-only": { type: "boolean", default: false }
})
export const args = flags.values
const bad: (problem: string) => never = flags.bad
const intArg = (name: string, raw: string | undefined, fallback: number, min = 1): number => {
  if (raw === undefined) return fallback
  const value = Number(raw)
  return Number.isInteger(value) && value >= min ? value : bad(`--${name} must be an integer >= ${min}, got ${raw}`)
}
const phaseArg = args.phase ?? "both"
if (phaseArg !== "both" && phaseArg !== "steady" && phaseArg !== "kill") bad(`--phase must be steady, kill or both, got ${phaseArg}`)

const nodeCount = intArg("nodes", args.nodes, 3, 2)
export const config = {
  nodes: nodeCount,
  sockets: intArg("sockets", args.sockets, args.quick ? 1500 : 10_000),
  ratePerSecond: intArg("rate", args.rate, 300),
  durationS: intArg("duration", args.duration, args.quick ? 15 : 30),
  phases: phaseArg === "both" ? ["steady", "kill"] as const : [phaseArg] as const,
  killNode: intArg("kill-node", args["kill-node"], 1, 0),
  failover: args.failover ?? "5 seconds",
  redis: args["redis-url"] ?? "private redis-server per phase",
  warmup: intArg("warmup", args.warmup, 300, 0),
  maxInFlight: intArg("max-in-flight", args["max-in-flight"], 5000),
  connectConcurrency: intArg("connect-concurrency", args["connect-concurrency"], 200),
  drainTimeoutMs: intArg("drain-timeout", args["drain-timeout"], 15_000),
  // A failed attempt goes to the next node at once; this pause follows a round in which every node failed.
  retryBackoffMs: { initial: 50, max: 1000 },
  attemptTimeoutMs: 15_000,
  publishDeadlineMs: 60_000,
  // As NotificationSocket (250 ms doubling), capped lower so a slow reconnect shows up within the run.
  reconnectBackoffMs: { initial: 250, max: 5000 },
  quick: args.quick
}
if (config.killNode >= config.nodes) bad(`--kill-node must be below --nodes (${config.nodes})`)
export const publishes = config.ratePerSecond * config.durationS
