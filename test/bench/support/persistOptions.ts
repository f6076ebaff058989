/**
 * The persist benchmark's command line (`../persist.ts`): how many users,
 * how many items per `Notify` call, how many calls in flight, for how long,
 * and whether items carry idempotency keys. Parsed the way
 * `compareOptions.ts` parses the comparison's: a bad flag prints one line
 * naming it, then the usage, and exits 2 before anything starts.
 */
import { AppRpcs } from "@herald/domain"
import { benchFlags } from "./benchFlags.ts"

const { MaxNotifyBatch } = AppRpcs

export const usage = `usage: node test/bench/persist.ts [options]   (or: pnpm bench:persist [options])
  --users N           distinct users the items go to, round-robin (default 10000; --quick 1000)
  --batch B           items per Notify call, each for a different user (default 100; at most ${MaxNotifyBatch})
  --concurrency C     Notify calls in flight, closed loop (default 8)
  --seconds T         measured seconds of publishing (default 15; --quick 3)
  --warmup-seconds W  unmeasured publishing first, on the same server (default 3; --quick 1)
  --keys on|off       an idempotency key per item (default on); with on, 1,000 acknowledged
                      items are sent again afterwards and must come back deduplicated
  --quick             1,000 users for 3 s (smoke check)
  --profile           run the server under node --cpu-prof; report its top self-time functions
  --json-only         no summary on stderr
One Herald server on a fresh database of the machine's PostgreSQL; prints one JSON document on stdout.
Exits 1 when the database does not hold exactly the acknowledged items (or a re-send was not
deduplicated), 2 when the run could not be set up.
`

const { bad, values: args } = benchFlags(usage, {
  help: { type: "boolean", short: "h", default: false },
  users: { type: "string" },
  batch: { type: "string" },
  concurrency: { type: "string" },
  seconds: { type: "string" },
  "warmup-seconds": { type: "string" },
  keys: { type: "string" },
  quick: { type: "boolean", default: false },
  profile: { type: "boolean", default: false },
  "json-only": { type: "boolean", default: false }
})

const int = (flag: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (raw.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    return bad(`--${flag} must be an integer ${range}, got ${JSON.stringify(raw)}`)
  }
  return value
}

const keys = (raw: string | undefined): boolean => {
  if (raw === undefined || raw === "on") return true
  if (raw === "off") return false
  return bad(`--keys must be on or off, got ${JSON.stringify(raw)}`)
}

const quick = args.quick
const users = int("users", args.users, quick ? 1000 : 10_000, 1)
const batch = int("batch", args.batch, 100, 1, MaxNotifyBatch)
// A call's items must go to distinct users, or Herald would store some of them in one transaction per user.
if (batch > users) bad(`--batch (${batch}) must not exceed --users (${users}): a call's items go to distinct users`)

export const config = {
  quick,
  users,
  batch,
  concurrency: int("concurrency", args.concurrency, 8, 1),
  seconds: int("seconds", args.seconds, quick ? 3 : 15, 1),
  warmupSeconds: int("warmup-seconds", args["warmup-seconds"], quick ? 1 : 3, 0),
  keys: keys(args.keys),
  // How many acknowledged items are sent again to check deduplication.
  dedupSample: 1000,
  profile: args.profile,
  jsonOnly: args["json-only"]
}
export type PersistConfig = typeof config
