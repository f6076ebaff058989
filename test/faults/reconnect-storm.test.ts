/**
 * A reconnect storm from a real process restart (`bin.ts`, SIGTERM, then the
 * same command on the same port and database), with a notification to every
 * user before the restart and one published the moment the new process is
 * ready: every client comes back, gets both exactly once, and the clients'
 * dials are spread by `NotificationSocket`'s backoff rather than all at once.
 *
 * `test/security/reconnect-storm.test.ts` measures the spread of "open"
 * events against an in-process restart, which is back at once. Here the
 * process is down for about a second, so part of the clients find no server
 * and redial on the ordinary backoff; the bound below accounts for that. The
 * dials (the token effect runs right before each) are what the backoff
 * decides; "open" instants also depend on how fast the new server works
 * through them, and are printed only.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { percentiles, reconnectStorm } from "../support/ReconnectStorm.ts"

const Clients = 600
const SpreadMs = 3_000 // NotificationSocket's default `backoff.spreadMs`
const InitialMs = 250 // and `backoff.initialMs`

it.live(`${Clients} clients of a restarted process redial spread out, come back, and get every notification once`, () =>
  Effect.gen(function*() {
    const figures = yield* reconnectStorm({ clients: Clients })
    console.log(`reconnect storm (process restart): ${JSON.stringify({
      clients: figures.clients,
      shutdownMs: figures.shutdownMs,
      serverDownMs: figures.serverDownMs,
      dials: figures.dialsAtMs.length,
      redialled: figures.redialled,
      busiestDials100ms: figures.busiestDials100ms,
      busiestOpens100ms: figures.busiest100ms,
      peakOpensPerSecond: figures.peakPerSecond,
      timeToReconnectMs: percentiles(figures.reconnectMs),
      lost: figures.lost,
      duplicated: figures.duplicated
    })}`)
    assert.strictEqual(figures.reconnected, Clients, "every client came back")
    assert.strictEqual(figures.lost, 0, "each client got both notifications")
    assert.strictEqual(figures.duplicated, 0, "and none twice")

    // The bound on the busiest 100 ms of dials, from the backoff (1001 and a refused dial, 1006):
    // - each client's first dial is uniform over [0, SpreadMs]: N·100/SpreadMs per bucket expected;
    // - a client whose first dial came while the server was down (R of them, R ≈ N·D/SpreadMs
    //   for D = serverDownMs, at most N) redials after U[cap/2, cap] with cap = InitialMs·2^k,
    //   k ≥ 1: windows at least InitialMs wide and far enough apart that at most one of a
    //   client's overlaps a bucket, so each adds at most 100/InitialMs to any bucket;
    // - half as much again for chance (a binomial count's spread over ~40 buckets).
    // Without the spread every client redials within [125, 250] ms of the close, which puts
    // about 0.6·N into one bucket (measured with spreadMs 0 at 1,000 clients: 698); the bound
    // stays below that while the server is back within the spread.
    const redialling = Clients * Math.min(figures.serverDownMs, SpreadMs) / SpreadMs
    const bound = 1.5 * (Clients * 100 / SpreadMs + redialling * 100 / InitialMs)
    assert.isBelow(figures.busiestDials100ms, bound, `busiest 100 ms of dials (bound ${Math.round(bound)})`)
    assert.isBelow(figures.busiestDials100ms, Clients / 2, "well under every client at once")
  }).pipe(Effect.scoped), { timeout: 180_000 })
