/**
 * Reconnect storm benchmark: N `NotificationSocket`s (one user each) on one
 * Herald process, which is restarted (SIGTERM, then the same command on the
 * same port and database); reports how the clients came back: peak
 * reconnects per second and per 100 ms, and each client's time to
 * reconnect, as JSON on stdout (a summary on stderr). The runner is
 * `test/support/ReconnectStorm.ts`, which `test/faults/reconnect-storm.test.ts`
 * asserts on.
 *
 *   node test/bench/reconnect-storm.ts [--clients 1000] [--spread-ms 3000] [--quick] [--json-only]
 *
 * Figures are printed, never judged. The exit code is a correctness check:
 * 1 when a client did not come back, or lost or doubled one of the two
 * notifications published around the restart; 2 when the run could not be
 * set up.
 */
import { Effect, Exit } from "effect"
import { cpus } from "node:os"
import { percentiles, reconnectStorm } from "../support/ReconnectStorm.ts"
import { benchFlags } from "./support/benchFlags.ts"

const usage = `usage: node test/bench/reconnect-storm.ts [options]   (or: npm run bench:reconnect -- [options])
  --clients N      sockets, one user each (default 1000; --quick 300)
  --spread-ms MS   the clients' backoff.spreadMs (default: the client's own, 3000; 0 shows the herd)
  --quick          the small configuration
  --json-only      no summary on stderr
Prints one JSON document on stdout; exits 1 when a client did not come back or a notification was lost or doubled.
`

const { bad, values: args } = benchFlags(usage, {
  help: { type: "boolean", short: "h", default: false },
  clients: { type: "string" },
  "spread-ms": { type: "string" },
  quick: { type: "boolean", default: false },
  "json-only": { type: "boolean", default: false }
})

const integer = (name: string, raw: string | undefined, fallback: number | undefined, min: number): number | undefined => {
  if (raw === undefined) return fallback
  const value = Number(raw)
  return Number.isInteger(value) && value >= min ? value : bad(`--${name} must be an integer >= ${min}, got ${raw}`)
}
const clients = integer("clients", args.clients, args.quick ? 300 : 1000, 1) ?? 1000
const spreadMs = integer("spread-ms", args["spread-ms"], undefined, 0)
const say = (line: string) => {
  if (!args["json-only"]) process.stderr.write(`${line}\n`)
}

const exit = await Effect.runPromiseExit(
  Effect.scoped(reconnectStorm({ clients, ...(spreadMs === undefined ? {} : { spreadMs }), say }))
)
if (Exit.isFailure(exit)) {
  process.stdout.write(`${JSON.stringify({ benchmark: "reconnect-storm", clients, error: String(exit.cause) }, null, 2)}\n`)
  process.exit(2)
}
const figures = exit.value
const toReconnect = percentiles(figures.reconnectMs)
const backAt = percentiles(figures.backAtMs)
const report = {
  benchmark: "reconnect-storm",
  config: { clients, spreadMs: figures.spreadMs, cpus: cpus().length },
  server: { shutdownMs: figures.shutdownMs, downMs: figures.serverDownMs },
  reconnects: {
    reconnected: figures.reconnected,
    peakPerSecond: figures.peakPerSecond,
    busiest100ms: figures.busiest100ms,
    // What a uniform spread over spreadMs would put in 100 ms, for comparison.
    uniform100ms: figures.spreadMs > 0 ? Math.round((clients * 100) / figures.spreadMs) : clients,
    // When the clients' backoff let them dial (refused dials included), apart from the server's pace.
    dials: figures.dialsAtMs.length,
    busiestDials100ms: figures.busiestDials100ms,
    redialled: figures.redialled,
    timeToReconnectMs: toReconnect,
    backAfterRestartMs: backAt
  },
  delivery: { lost: figures.lost, duplicated: figures.duplicated }
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
say(
  `${figures.reconnected}/${clients} back; peak ${figures.peakPerSecond}/s, busiest 100 ms ${figures.busiest100ms} (dials ${figures.busiestDials100ms}); ` +
    `time to reconnect p50 ${toReconnect.p50} ms, p95 ${toReconnect.p95} ms; server down ${figures.serverDownMs} ms; ` +
    `lost ${figures.lost}, duplicated ${figures.duplicated}`
)
process.exit(figures.reconnected === clients && figures.lost === 0 && figures.duplicated === 0 ? 0 : 1)
