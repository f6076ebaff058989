/**
 * A reconnect storm as operators cause it: N `NotificationSocket`s (one user
 * each) on one Herald process (`bin.ts`), which is then restarted the way a
 * deploy does it (SIGTERM: every socket closed with 1001; then the same
 * command on the same port and database). Shared by the fault test, which
 * asserts on the figures, and `test/bench/reconnect-storm.ts`, which prints
 * them.
 *
 * Reconnects are timed from the client's state events: "reconnecting" when
 * a socket saw its connection end, "open" when the new server accepted its
 * token (the `ready` frame). A notification is published to every user
 * before the restart and another one the moment the new process is ready,
 * while the clients are still coming back; each must reach its user once.
 */
import { HeraldClient, NotificationSocket } from "@herald/client"
import { Context, Effect, Exit, Layer, type Scope, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { spawnServer, stopServer } from "./ServerProcess.ts"
import { testDatabase } from "./TestDatabase.ts"
import { adminKey, apiKey, freePort, tokenSecret } from "./TestServer.ts"

export interface StormOptions {
  readonly clients: number
  /** The clients' `backoff.spreadMs`; the client's default (3,000) when unset. */
  readonly spreadMs?: number
  /** Sockets opening at once before the storm. */
  readonly connectConcurrency?: number
  /** Called with progress lines (the bench prints them on stderr). */
  readonly say?: (line: string) => void
}

export interface StormFigures {
  readonly clients: number
  readonly spreadMs: number
  /** From SIGTERM to the old process's exit. */
  readonly shutdownMs: number
  /** From SIGTERM to the new process's ready line: no server on the port for part of it. */
  readonly serverDownMs: number
  /** Sockets back ("open" again) by the end. */
  readonly reconnected: number
  /** Each client's "open" instants after the restart, in ms since the SIGTERM, sorted. */
  readonly backAtMs: ReadonlyArray<number>
  /**
   * Every dial after the SIGTERM (refused ones included), in ms since the SIGTERM, sorted: when
   * the client's backoff let it try, which the server's own pace cannot shape.
   */
  readonly dialsAtMs: ReadonlyArray<number>
  /** The most dials within one 100 ms bucket. */
  readonly busiestDials100ms: number
  /** Clients that dialled more than once before they were back (their first dial met no server). */
  readonly redialled: number
  /** Each client's wait, from its "reconnecting" to its "open", sorted. */
  readonly reconnectMs: ReadonlyArray<number>
  /** The most reconnects within one 100 ms bucket (since the SIGTERM). */
  readonly busiest100ms: number
  /** The most reconnects within any 1 s (ten consecutive 100 ms buckets). */
  readonly peakPerSecond: number
  /** Clients that did not get both notifications, or got one twice. */
  readonly lost: number
  readonly duplicated: number
}

const nearestRank = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1] ?? Number.NaN

export const percentiles = (sorted: ReadonlyArray<number>) => ({
  p50: nearestRank(sorted, 0.5),
  p95: nearestRank(sorted, 0.95),
  max: sorted.at(-1) ?? Number.NaN
})

/** Buckets of `width` ms: the fullest one, and the fullest run of `window` consecutive ones. */
export const busiest = (times: ReadonlyArray<number>, width: number, window = 1) => {
  const counts = new Map<number, number>()
  for (const t of times) counts.set(Math.floor(t / width), (counts.get(Math.floor(t / width)) ?? 0) + 1)
  let best = 0
  for (const start of counts.keys()) {
    let sum = 0
    for (let i = 0; i < window; i++) sum += counts.get(start + i) ?? 0
    best = Math.max(best, sum)
  }
  return best
}

/** Runs the storm; everything it starts (server, database, sockets, temp dirs) ends with the scope. */
export const reconnectStorm = (options: StormOptions): Effect.Effect<StormFigures, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const say = options.say ?? (() => {})
    const n = options.clients
    const database = yield* testDatabase
    const port = yield* freePort
    const dataDir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "herald-storm-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const env = {
      DATABASE_URL: database.url,
      HERALD_HOST: "127.0.0.1",
      HERALD_PORT: String(port),
      HERALD_DATA_DIR: dataDir,
      HERALD_API_KEY: apiKey,
      HERALD_ADMIN_KEY: adminKey,
      HERALD_TOKEN_SECRET: tokenSecret,
      // Every client dials from 127.0.0.1 and one app key publishes for all: the per-address
      // and per-key limits would shape the storm themselves.
      HERALD_RATE_LIMIT_CONNECT: "0",
      HERALD_MAX_SOCKETS_PER_IP: "0",
      HERALD_RATE_LIMIT_RPC: "0",
      // A restart is a burst of failed sessions on purpose; the rollout guard must not react.
      HERALD_GUARD: "false"
    }
    let server = yield* spawnServer(env)
    const client = yield* Layer.build(HeraldClient.layer({ url: `http://127.0.0.1:${port}`, apiKey })).pipe(
      Effect.map(Context.get(HeraldClient))
    )
    const users = Array.from({ length: n }, (_, i) => `storm-u${i}`)
    const opened: Array<Array<number>> = users.map(() => [])
    const reconnecting: Array<Array<number>> = users.map(() => [])
    const received: Array<Array<string>> = users.map(() => [])
    const dials: Array<Array<number>> = users.map(() => [])
    const open = new Set<number>()
    say(`opening ${n} sockets`)
    yield* Effect.forEach(users, (userId, i) =>
      Effect.gen(function*() {
        const { token } = yield* client.issueClientToken(userId)
        const socket = yield* NotificationSocket.make({
          url: `ws://127.0.0.1:${port}/ws`,
          // The token effect runs right before every dial: its calls are the client's dial times.
          token: Effect.sync(() => {
            dials[i]?.push(Date.now())
            return token
          }),
          ...(options.spreadMs === undefined ? {} : { backoff: { spreadMs: options.spreadMs } }),
          onState: (state) => {
            if (state === "open") {
              opened[i]?.push(Date.now())
              open.add(i)
            } else if (state === "reconnecting") {
              reconnecting[i]?.push(Date.now())
              open.delete(i)
            }
          }
        })
        yield* Effect.forkScoped(socket.notifications.pipe(
          Stream.runForEach((notification) => Effect.sync(() => received[i]?.push(notification.id)))
        ))
        yield* socket.stateChanges.pipe(Stream.takeUntil((state) => state === "open"), Stream.runDrain)
      }), { concurrency: options.connectConcurrency ?? 50, discard: true })

    const publishToAll = (round: string) =>
      Effect.forEach(chunks(users, 500), (chunk) =>
        Effect.gen(function*() {
          const items = chunk.map((userId) => ({ userId, kind: "mention" as const, title: round, idempotencyKey: `${round}-${userId}` }))
          // Retried with the same keys until accepted (the new process may still be warming up).
          for (let attempt = 0; attempt < 100; attempt++) {
            const exit = yield* Effect.exit(client.notifyBatch(items))
            if (Exit.isSuccess(exit)) return exit.value.map((result) => result.id)
            yield* Effect.sleep("200 millis")
          }
          return yield* Effect.fail(new Error(`could not publish ${round}`))
        })).pipe(Effect.map((ids) => ids.flat()))
    const before = yield* publishToAll("before")
    yield* waitUntil(() => received.every((ids) => ids.length >= 1), 600)

    say("restarting the server (SIGTERM, then the same command)")
    const termAt = Date.now()
    yield* stopServer(server, "SIGTERM")
    const exitedAt = Date.now()
    server = yield* spawnServer(env)
    const upAt = Date.now()
    const after = yield* publishToAll("after")
    const back = () => opened.filter((times) => (times.at(-1) ?? 0) > termAt).length
    yield* waitUntil(() => back() === n, 600)
    yield* waitUntil(() => received.every((ids) => ids.length >= 2), 100)
    // A moment for anything arriving twice.
    yield* Effect.sleep("500 millis")

    const expected = new Set<string>([...before, ...after])
    let lost = 0
    let duplicated = 0
    for (const ids of received) {
      if (ids.length !== new Set(ids).size) duplicated++
      if (ids.filter((id) => expected.has(id)).length < 2 || ids.length < 2) lost++
    }
    const backAtMs: Array<number> = []
    const reconnectMs: Array<number> = []
    for (let i = 0; i < n; i++) {
      const reopened = opened[i]?.find((t) => t > termAt)
      const left = reconnecting[i]?.find((t) => t >= termAt)
      if (reopened === undefined) continue
      backAtMs.push(reopened - termAt)
      if (left !== undefined) reconnectMs.push(reopened - left)
    }
    backAtMs.sort((a, b) => a - b)
    reconnectMs.sort((a, b) => a - b)
    const dialsAtMs = dials.flatMap((times) => times.filter((t) => t > termAt).map((t) => t - termAt)).sort((a, b) => a - b)
    return {
      clients: n,
      spreadMs: options.spreadMs ?? 3_000,
      shutdownMs: exitedAt - termAt,
      serverDownMs: upAt - termAt,
      reconnected: backAtMs.length,
      backAtMs,
      reconnectMs,
      dialsAtMs,
      busiestDials100ms: busiest(dialsAtMs, 100),
      redialled: dials.filter((times) => times.filter((t) => t > termAt).length > 1).length,
      busiest100ms: busiest(backAtMs, 100),
      peakPerSecond: busiest(backAtMs, 100, 10),
      lost,
      duplicated
    } satisfies StormFigures
  })

const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))

/** Polls `done` every 100 ms, at most `times` times (a bench must end even when something is lost). */
const waitUntil = (done: () => boolean, times: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < times && !done(); i++) yield* Effect.sleep("100 millis")
  })
