/**
 * A runner killed (`kill -9`) in a 3-node cluster under a light publish
 * load, seen from the protocol rather than through `NotificationSocket`
 * (whose de-duplication by id would hide a frame the server sent twice;
 * `test/cluster/nodes.test.ts` covers the client library's view): every
 * user has a bare socket that, when its connection ends, opens a new one on
 * the next node with `resume` set to the last cursor it processed.
 *
 * Publishes go only through the two survivors, one call per attempt, and
 * every failed attempt is kept: Notify needs no shard (`Publisher.ts`: no
 * per-user state in memory), so the survivors keep accepting while the dead
 * node's shards move, and whatever fails in that window must be a typed,
 * retryable error. The figures (failures, window, reconnects) are printed.
 */
import { assert, it } from "@effect/vitest"
import { Socket } from "@herald/domain"
import type { HeraldClient } from "@herald/client"
import { Cause, Deferred, Effect, Exit, Schema } from "effect"
import { type ClusterNode, clientsFor, startCluster } from "../support/Cluster.ts"
import { eventually } from "../support/eventually.ts"
import { privateRedis } from "../support/PrivateRedis.ts"
import { openRaw } from "../support/RawSocket.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"

const Users = 12
const Total = 450
const KillAt = 150
const Workers = 6
const VictimIndex = 1
const AllShards = 300 // effect/cluster's shards for the one group Herald uses

const decodeFrame = Schema.decodeUnknownExit(Socket.ServerFrame)

interface Follower {
  readonly userId: string
  readonly first: number
  /** Notification frames in the order they arrived, across connections. */
  readonly received: Array<{ readonly id: string; readonly cursor: number }>
  /** How each connection ended: a close code, or -1 when it could not be opened. */
  readonly endings: Array<number>
}

/**
 * A bare socket for `userId` that starts on node `first` and, each time its connection ends,
 * dials the next node and resumes after the last cursor it processed (docs/protocol.md).
 */
const follow = (client: HeraldClient["Service"], nodes: ReadonlyArray<ClusterNode>, userId: string, first: number) =>
  Effect.gen(function*() {
    const { token } = yield* client.issueClientToken(userId)
    const follower: Follower = { userId, first, received: [], endings: [] }
    const live = yield* Deferred.make<void>()
    let last: number | undefined
    const session = (url: string) =>
      Effect.scoped(Effect.gen(function*() {
        const socket = yield* openRaw(url)
        yield* socket.sendJson(last === undefined ? { type: "auth", token } : { type: "auth", token, resume: last })
        while (true) {
          const event = yield* Effect.raceFirst(
            Effect.map(socket.next("1 hour"), (frame) => ({ _tag: "frame" as const, frame })),
            Effect.map(socket.closed("1 hour"), (code) => ({ _tag: "closed" as const, code }))
          )
          if (event._tag === "closed") return event.code
          const decoded = decodeFrame(event.frame)
          if (Exit.isFailure(decoded)) return yield* Effect.die(new Error(`undecodable frame ${JSON.stringify(event.frame)}`))
          const frame = decoded.value
          switch (frame.type) {
            case "notification": {
              follower.received.push({ id: frame.notification.id, cursor: frame.notification.cursor })
              last = frame.notification.cursor
              break
            }
            case "synced": {
              if (last === undefined || frame.cursor > last) last = frame.cursor
              yield* Deferred.succeed(live, undefined)
              break
            }
            case "ping": {
              yield* socket.sendJson({ type: "pong" })
              break
            }
            default:
              break
          }
        }
      }))
    yield* Effect.forkScoped(Effect.gen(function*() {
      for (let attempt = 0; ; attempt++) {
        const node = nodes[(first + attempt) % nodes.length]
        if (node === undefined) return
        const ended = yield* Effect.exit(session(node.wsUrl))
        follower.endings.push(Exit.isSuccess(ended) ? ended.value : -1)
        yield* Effect.sleep("100 millis")
      }
    }))
    yield* Deferred.await(live)
    return follower
  })

interface Accepted {
  readonly userId: string
  readonly id: string
  readonly at: number
  readonly attempts: number
}

interface FailedAttempt {
  readonly at: number
  /** The error's tag, `Die`/`Interrupt` for a defect, `Timeout` when no answer came in 30 s. */
  readonly tag: string
  readonly retryable: boolean
  readonly message: string
}

const describeFailure = (cause: Cause.Cause<unknown>, at: number): FailedAttempt => {
  const reason = cause.reasons[0]
  if (reason === undefined) return { at, tag: "Empty", retryable: false, message: "" }
  if (reason._tag !== "Fail") return { at, tag: reason._tag, retryable: false, message: Cause.pretty(cause) }
  const error = reason.error
  if (typeof error !== "object" || error === null || !("_tag" in error) || typeof error._tag !== "string") {
    return { at, tag: "Unknown", retryable: false, message: String(error) }
  }
  return {
    at,
    tag: error._tag,
    retryable: "retryable" in error && error.retryable === true,
    message: "message" in error && typeof error.message === "string" ? error.message : ""
  }
}

it.live("kill -9 of a runner: bare sockets resume on the survivors with every notification once, and the survivors keep accepting publishes", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const nodes = yield* startCluster({ nodes: 3, databaseUrl: database.url, redisUrl: redis.url })
    const clients = yield* clientsFor(nodes)
    const victim = nodes[VictimIndex]
    const survivors = clients.filter((_, i) => i !== VictimIndex)
    const [issuer] = survivors
    if (victim === undefined || issuer === undefined || survivors.length !== 2) return assert.fail("three nodes")
    const userIds = Array.from({ length: Users }, (_, i) => `rk-u${i}`)
    const followers = yield* Effect.forEach(userIds, (userId, i) => follow(issuer, nodes, userId, i % nodes.length))

    // Every shard is an advisory lock held by its runner's session: all held means assigned.
    const shardLocks = query<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()`
    ).pipe(Effect.map((rows) => rows[0]?.n ?? 0))
    assert.isAtLeast(yield* eventually(shardLocks, (n) => n >= AllShards, { times: 200, every: "100 millis" }), AllShards)

    const accepted: Array<Accepted> = []
    const failures: Array<FailedAttempt> = []
    let killedAt = 0
    let shardsBackAt = 0
    const watchShards = Effect.gen(function*() {
      // The dead session's locks go when PostgreSQL notices; then the survivors take them.
      for (let i = 0; i < 600 && (yield* shardLocks) >= AllShards; i++) yield* Effect.sleep("20 millis")
      yield* eventually(shardLocks, (n) => n >= AllShards, { times: 1_500, every: "20 millis" })
      shardsBackAt = Date.now()
    })
    // Preferences do go through the user's mailbox entity, so for the dead node's shards they
    // must wait for the move: each call either answers or fails typed, and its time is printed.
    const preferenceCalls: Array<{ readonly ms: number; readonly outcome: FailedAttempt | "ok" }> = []
    const probePreferences = Effect.forEach(userIds, (userId) =>
      Effect.gen(function*() {
        const began = Date.now()
        const exit = yield* Effect.exit(issuer.getPreferences(userId).pipe(
          Effect.timeoutOrElse({ duration: "60 seconds", orElse: () => Effect.fail({ _tag: "Timeout", message: "no answer in 60 s" }) })
        ))
        preferenceCalls.push({ ms: Date.now() - began, outcome: Exit.isSuccess(exit) ? "ok" : describeFailure(exit.cause, Date.now()) })
      }), { concurrency: "unbounded", discard: true })
    const publishOne = (sequence: number) =>
      Effect.gen(function*() {
        const userId = userIds[sequence % Users] ?? ""
        for (let attempt = 0; attempt < 100; attempt++) {
          const client = survivors[(sequence + attempt) % survivors.length]
          if (client === undefined) return yield* Effect.die("no survivor")
          const exit = yield* Effect.exit(
            client.notify({ userId, kind: "mention", title: `n${sequence}`, idempotencyKey: `rk-${sequence}` }).pipe(
              Effect.timeoutOrElse({ duration: "30 seconds", orElse: () => Effect.fail({ _tag: "Timeout", message: "no answer in 30 s" }) })
            )
          )
          if (Exit.isSuccess(exit)) {
            accepted.push({ userId, id: exit.value.id, at: Date.now(), attempts: attempt + 1 })
            return
          }
          failures.push(describeFailure(exit.cause, Date.now()))
          yield* Effect.sleep("100 millis")
        }
        return yield* Effect.die(`gave up publishing rk-${sequence}`)
      })
    let next = 0
    const worker = Effect.gen(function*() {
      while (next < Total) {
        const sequence = next++
        if (sequence === KillAt) {
          killedAt = Date.now()
          yield* victim.kill
          yield* Effect.forkScoped(watchShards)
          yield* Effect.forkScoped(probePreferences)
        }
        yield* publishOne(sequence)
        yield* Effect.sleep("40 millis")
      }
    })
    yield* Effect.all(Array.from({ length: Workers }, () => worker), { concurrency: "unbounded", discard: true })
    yield* eventually(Effect.sync(() => shardsBackAt), (at) => at > 0, { times: 600, every: "100 millis" })
    yield* eventually(Effect.sync(() => preferenceCalls.length), (n) => n === Users, { times: 700, every: "100 millis" })

    // Every follower ends up with exactly its user's accepted notifications.
    const wanted = (userId: string) => accepted.filter((a) => a.userId === userId).map((a) => a.id)
    const complete = () => followers.every((f) => new Set(f.received.map((r) => r.id)).size >= wanted(f.userId).length)
    yield* eventually(Effect.sync(complete), (done) => done, { times: 300, every: "100 millis" })
    // A moment for any frame sent twice to arrive too.
    yield* Effect.sleep("500 millis")

    const figures = {
      accepted: accepted.length,
      failedAttempts: failures.length,
      failuresByTag: failures.reduce<Record<string, number>>((by, f) => ({ ...by, [f.tag]: (by[f.tag] ?? 0) + 1 }), {}),
      failureWindowMs: failures.length === 0
        ? null
        : [Math.min(...failures.map((f) => f.at)) - killedAt, Math.max(...failures.map((f) => f.at)) - killedAt],
      shardsBackAfterMs: shardsBackAt - killedAt,
      acceptedWhileShardsMoved: accepted.filter((a) => a.at > killedAt && a.at < shardsBackAt).length,
      firstTryAfterKill: accepted.filter((a) => a.at > killedAt && a.attempts === 1).length,
      preferenceCallsMs: preferenceCalls.map((c) => c.ms).sort((a, b) => a - b),
      preferenceFailures: preferenceCalls.flatMap((c) => c.outcome === "ok" ? [] : [c.outcome.tag]),
      reconnectedFollowers: followers.filter((f) => f.endings.length > 0).length,
      endings: [...new Set(followers.flatMap((f) => f.endings))]
    }
    console.log(`runner killed: ${JSON.stringify(figures)}`)

    for (const follower of followers) {
      const ids = follower.received.map((r) => r.id)
      assert.strictEqual(new Set(ids).size, ids.length, `${follower.userId}: no frame twice`)
      assert.sameMembers(ids, wanted(follower.userId), `${follower.userId}: every accepted notification, nothing else`)
      const cursors = follower.received.map((r) => r.cursor)
      assert.deepStrictEqual(cursors, [...cursors].sort((a, b) => a - b), `${follower.userId}: in cursor order across nodes`)
    }
    // The victim's users (first on node 1) lost their connection and resumed elsewhere.
    for (const follower of followers.filter((f) => f.first === VictimIndex)) {
      assert.isAtLeast(follower.endings.length, 1, `${follower.userId} reconnected`)
    }
    assert.strictEqual(accepted.length, Total)
    // Whatever failed while the runner died is an error the app can act on: retry with the key.
    for (const failure of failures) {
      assert.strictEqual(failure.tag, "StorageUnavailable", failure.message)
      assert.isTrue(failure.retryable, failure.message)
    }
    // Survivors accepted publishes while the dead node's shards were still moving (about 4 s
    // measured): publishing does not wait for failover.
    assert.isAbove(figures.acceptedWhileShardsMoved, 0)
    for (const call of preferenceCalls) {
      if (call.outcome === "ok") continue
      assert.strictEqual(call.outcome.tag, "StorageUnavailable", call.outcome.message)
      assert.isTrue(call.outcome.retryable, call.outcome.message)
    }
    const stored = yield* query<{ n: number; keys: number }>(
      database.url,
      "SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS keys FROM notifications"
    )
    assert.deepStrictEqual(stored[0], { n: Total, keys: Total }, "each key stored once")
  }).pipe(Effect.scoped), { timeout: 180_000 })
