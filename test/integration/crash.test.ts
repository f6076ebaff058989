/**
 * The server process killed with SIGKILL while pushes are in flight, then
 * started again: every delivery is sent, none twice. Real process, real
 * firebase-admin, the fake FCM holding the in-flight requests unanswered.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { eventually } from "../support/eventually.ts"
import { anyToken, makeFakeFcm, makeServiceAccount } from "../support/FakeFcm.ts"
import { spawnServer, stopServer } from "../support/ServerProcess.ts"
import { query, testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, freePort, tokenSecret } from "../support/TestServer.ts"

const Total = 30

it.live("killed with SIGKILL mid-batch and restarted: every push is delivered, none twice", () =>
  Effect.gen(function*() {
    const database = yield* testDatabase
    const account = makeServiceAccount("herald-crash")
    const fcm = yield* makeFakeFcm({ serviceAccountKey: account.publicKey })
    const dir = mkdtempSync(join(tmpdir(), "herald-crash-"))
    writeFileSync(join(dir, "service-account.json"), account.json)
    const port = yield* freePort
    const env = {
      DATABASE_URL: database.url,
      HERALD_PORT: String(port),
      HERALD_DATA_DIR: dir,
      HERALD_API_KEY: apiKey,
      HERALD_ADMIN_KEY: adminKey,
      HERALD_TOKEN_SECRET: tokenSecret,
      HERALD_DELIVERY_LEASE: "2 seconds",
      HERALD_RETRY_BASE: "100 millis",
      HERALD_DELIVERY_POLL: "100 millis",
      FCM_PROJECT_ID: "herald-crash",
      FCM_CREDENTIALS: join(dir, "service-account.json"),
      FCM_ENDPOINT: fcm.url,
      FCM_TLS_INSECURE: "true"
    }
    const first = yield* spawnServer(env)
    const client = yield* Layer.build(HeraldClient.layer({ url: `http://127.0.0.1:${port}`, apiKey })).pipe(
      Effect.map(Context.get(HeraldClient))
    )
    yield* client.registerDevice("crash-user", "fcm-crash", "android")

    // FCM accepts the first few, then holds every further request unanswered.
    const published = yield* Effect.forEach(
      Array.from({ length: Total }, (_, i) => i),
      (i) => client.notify({ userId: "crash-user", kind: "mention", title: `n${i}` })
    )
    yield* eventually(Effect.sync(() => fcm.received().length), (n) => n >= 5, { times: 400 })
    fcm.failNext(anyToken, "HANG", { times: 1_000_000 })
    yield* eventually(Effect.sync(() => fcm.attempts("fcm-crash") - fcm.received().length), (hanging) => hanging >= 1, { times: 400 })
    const acceptedBeforeKill = fcm.received().length
    assert.isBelow(acceptedBeforeKill, Total, "the kill comes mid-batch")

    yield* stopServer(first, "SIGKILL")
    fcm.clearFailures()
    yield* spawnServer(env)
    const rows = yield* eventually(
      query<{ state: string }>(database.url, "SELECT state FROM deliveries WHERE user_id = 'crash-user'"),
      (rows) => rows.length === Total && rows.every((r) => r.state === "sent"),
      { times: 600 }
    )
    assert.strictEqual(rows.length, Total)
    const ids = fcm.received().map((m) => m.data["notificationId"])
    assert.strictEqual(ids.length, Total, `each of ${Total} sent once (${acceptedBeforeKill} before the kill)`)
    assert.sameMembers(ids, published.map((p) => p.id))
  }).pipe(Effect.scoped), { timeout: 120_000 })
