/**
 * Where a user's sockets are, across a cluster (`InspectUser`'s
 * connections): two nodes on one database and a private Redis, a socket of
 * the user on node A and two on node B. Asking node B reports both nodes,
 * each with its node id, address and count; a closed socket drops out; with
 * Redis down the answer is B's own sockets, marked incomplete, and once Redis
 * is back it is the whole cluster again.
 */
import { assert, it } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import type { UserConnections } from "@herald/domain"
import { Context, Effect, Layer } from "effect"
import { eventually } from "../support/eventually.ts"
import { privateRedis } from "../support/PrivateRedis.ts"
import { openRaw } from "../support/RawSocket.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

const counts = (c: UserConnections) => c.nodes.map((n) => [n.address, n.sockets] as const)

it.live("asking one node reports the user's sockets on every node, with their node ids and addresses", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const redis = yield* privateRedis
    const a = yield* testServer({ databaseUrl: database.url, redisUrl: redis.url })
    const b = yield* testServer({ databaseUrl: database.url, redisUrl: redis.url })
    const client = yield* Layer.build(HeraldClient.layer({ url: a.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const adminB = yield* Layer.build(HeraldAdminClient.layer({ url: b.url, adminKey })).pipe(
      Effect.map(Context.get(HeraldAdminClient))
    )
    const user = "pr-alice"
    const token = (yield* client.issueClientToken(user)).token
    const connect = (wsUrl: string) =>
      Effect.gen(function*() {
        const socket = yield* openRaw(wsUrl)
        yield* socket.sendJson({ type: "auth", token })
        yield* socket.until("synced")
        return socket
      })
    const onA = yield* connect(a.wsUrl)
    yield* connect(b.wsUrl)
    yield* connect(b.wsUrl)
    const addressA = `127.0.0.1:${a.port}`
    const addressB = `127.0.0.1:${b.port}`
    const connectionsFromB = Effect.map(adminB.inspectUser(user), (report) => report.connections)

    const both = yield* connectionsFromB
    assert.strictEqual(both.sockets, 3)
    assert.strictEqual(both.nodesAnswered, 2)
    assert.isTrue(both.complete)
    assert.sameDeepMembers([...counts(both)], [[addressA, 1], [addressB, 2]])
    const ids = both.nodes.map((n) => n.nodeId)
    assert.strictEqual(new Set(ids).size, 2, "two distinct node ids")
    for (const id of ids) assert.match(id, /^127\.0\.0\.1:\d+$/, "a node is named by its runner address")

    const nobody = yield* Effect.map(adminB.inspectUser("pr-nobody"), (report) => report.connections)
    assert.deepStrictEqual(
      { sockets: nobody.sockets, nodes: nobody.nodes.length, answered: nobody.nodesAnswered, complete: nobody.complete },
      { sockets: 0, nodes: 0, answered: 2, complete: true }
    )

    yield* onA.close()
    const closed = yield* eventually(connectionsFromB, (c) => c.sockets === 2, { times: 50, every: "100 millis" })
    assert.deepStrictEqual([...counts(closed)], [[addressB, 2]])
    assert.strictEqual(closed.nodesAnswered, 2, "node A still answers, with none")

    yield* redis.stop
    const alone = yield* eventually(connectionsFromB, (c) => !c.complete, { times: 50, every: "100 millis" })
    assert.deepStrictEqual({ sockets: alone.sockets, answered: alone.nodesAnswered }, { sockets: 2, answered: 1 })

    yield* redis.start
    const again = yield* eventually(connectionsFromB, (c) => c.complete && c.nodesAnswered === 2, { times: 100, every: "100 millis" })
    assert.strictEqual(again.sockets, 2)
  }).pipe(Effect.scoped), { timeout: 120_000 })
