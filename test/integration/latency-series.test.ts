/**
 * The admin chart's latency series (`GetLatencySeries`): one point per
 * minute over the last N minutes, oldest first, every minute present (empty
 * ones with count 0 and null percentiles), each the sum over every node's
 * `node_stats` rows of that minute plus what this node has not written yet.
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import type { LatencyPoint } from "@herald/domain"
import { bucketOf, upperBound } from "@herald/server/rollout/LatencyHistogram"
import { Context, DateTime, Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { openRaw } from "../support/RawSocket.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const Minute = 60_000

/** One segment of another node's minute, as that node would have written it. */
const insertSegment = (url: string, node: string, minute: number, latency: Record<string, Record<number, number>>) =>
  query(
    url,
    "INSERT INTO node_stats (node_id, started_at, minute, latency) VALUES ($1::uuid, $2::timestamptz, $2::timestamptz, $3::jsonb)",
    [node, new Date(minute).toISOString(), JSON.stringify(latency)]
  )

const millisOf = (point: LatencyPoint) => DateTime.toEpochMillis(point.minute)

it.live("the series has a point per minute, oldest first, with every node's samples in their minute", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const admin = yield* Layer.build(HeraldAdminClient.layer({ url: server.url, adminKey })).pipe(
      Effect.map(Context.get(HeraldAdminClient))
    )

    // Two other nodes: in-app samples in the same minute (summed), push and ack in others.
    const now = Math.floor(Date.now() / Minute) * Minute
    const [m3, m1, m12] = [now - 3 * Minute, now - Minute, now - 12 * Minute]
    const [fast, slow] = [bucketOf(20), bucketOf(400)]
    const [nodeA, nodeB] = [randomUUID(), randomUUID()]
    yield* insertSegment(database.url, nodeA, m3, { in_app: { [fast]: 2 }, ack: { [slow]: 1 } })
    yield* insertSegment(database.url, nodeB, m3, { in_app: { [fast]: 1, [slow]: 2 } })
    yield* insertSegment(database.url, nodeA, m1, { push: { [slow]: 4 } })
    yield* insertSegment(database.url, nodeB, m12, { email: { [fast]: 9 } })

    // And this node's own deliveries, counted from memory at once.
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("ls-alice")).token })
    yield* socket.until("synced")
    for (const title of ["one", "two"]) yield* client.notify({ userId: "ls-alice", kind: "mention", title })
    for (let i = 0; i < 2; i++) yield* socket.until("notification")

    const points = yield* admin.latencySeries(10)
    assert.strictEqual(points.length, 10)
    points.forEach((point, i) => {
      if (i > 0) assert.strictEqual(millisOf(point) - millisOf(points[i - 1] ?? point), Minute, "consecutive minutes, oldest first")
    })
    const last = points.at(-1)
    assert.isTrue(last !== undefined && millisOf(last) >= now && millisOf(last) <= now + Minute, "ends at the current minute")
    assert.isUndefined(points.find((p) => millisOf(p) === m12), "older than the window: not there")

    const at = (minute: number) => {
      const point = points.find((p) => millisOf(p) === minute)
      if (point === undefined) return assert.fail(`no point for ${new Date(minute).toISOString()}`)
      return point
    }
    const third = at(m3).channels
    assert.strictEqual(third.in_app.count, 5, "both nodes' samples of the minute")
    assert.strictEqual(third.in_app.p50, upperBound(fast), "3 of the 5 samples are fast")
    assert.strictEqual(third.in_app.p95, upperBound(slow))
    assert.strictEqual(third.ack.count, 1)
    assert.strictEqual(third.push.count, 0)
    assert.isNull(third.push.p50)
    assert.strictEqual(at(m1).channels.push.count, 4)
    assert.strictEqual(at(m1).channels.push.p99, upperBound(slow))
    assert.strictEqual(at(m1).channels.in_app.count, 0)

    const total = (channel: "in_app" | "push" | "email" | "ack") =>
      points.reduce((sum, point) => sum + point.channels[channel].count, 0)
    assert.strictEqual(total("in_app"), 5 + 2, "the other nodes' five and this node's two frames")
    assert.strictEqual(total("push"), 4)
    assert.strictEqual(total("email"), 0)
    const empty = points.filter((p) => p.channels.in_app.count === 0 && p.channels.push.count === 0 && p.channels.ack.count === 0)
    assert.isAtLeast(empty.length, 6)
    for (const point of empty) assert.isNull(point.channels.in_app.p95)

    const one = yield* admin.latencySeries(1)
    assert.strictEqual(one.length, 1)
    const only = one[0]
    assert.isTrue(only !== undefined && millisOf(only) >= now, "the current minute")

    for (const minutes of [0, 181, 1.5]) {
      const refused = yield* Effect.flip(admin.latencySeries(minutes))
      assert.strictEqual(refused._tag, "InvalidRequest", String(minutes))
      assert.strictEqual(refused._tag === "InvalidRequest" ? refused.path : "", "minutes")
    }
    assert.strictEqual((yield* admin.latencySeries(180)).length, 180)
  }).pipe(Effect.scoped), { timeout: 60_000 })
