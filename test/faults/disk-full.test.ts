/**
 * The embedded default with its data directory's disk full: a small tmpfs
 * of the test's own holds `HERALD_DATA_DIR` (embedded PostgreSQL included),
 * and a filler file takes every free byte. Publishing then fails with the
 * typed, retryable StorageUnavailable: the server neither crashes nor
 * acknowledges a write it did not make. Once space is freed it works again,
 * and every notification whose publish succeeded is stored exactly once.
 *
 * Mounting needs root, which the machines this project runs on have; the
 * test fails (never skips) without it.
 */
import { assert, it } from "@effect/vitest"
import { HeraldClient, type HeraldClientError } from "@herald/client/HeraldClient"
import { Context, Effect, Exit, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { spawnServer, stopServer } from "../support/ServerProcess.ts"
import { freePort } from "../support/TestServer.ts"

const SizeMb = 160
const Batch = 50
const body = "y".repeat(3_900)

const smallDisk = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "herald-disk-"))
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${SizeMb}m`, "tmpfs", dir])
    return dir
  }),
  (dir) =>
    Effect.sync(() => {
      // Lazily, in case a straggling process still holds a file there.
      execFileSync("umount", ["-l", dir])
      rmSync(dir, { recursive: true, force: true })
    })
)

/** Writes zeros into `file` until the disk refuses; returns the bytes written. */
const fill = (file: string) =>
  Effect.sync(() => {
    const chunk = Buffer.alloc(1024 * 1024)
    let written = 0
    try {
      while (true) {
        writeFileSync(file, chunk, { flag: "a" })
        written += chunk.length
      }
    } catch {
      // ENOSPC: full.
    }
    const small = Buffer.alloc(4096)
    try {
      while (true) {
        writeFileSync(file, small, { flag: "a" })
        written += small.length
      }
    } catch {
      return written
    }
  })

it.live("a full disk under the embedded PostgreSQL: Notify fails typed and retryable, the server stays up, and after space is freed nothing is lost or doubled", () =>
  Effect.gen(function*() {
    const dir = yield* smallDisk
    const dataDir = join(dir, "data")
    const port = yield* freePort
    const server = yield* spawnServer({ HERALD_DATA_DIR: dataDir, HERALD_PORT: String(port), DATABASE_URL: "", HERALD_API_KEY: "" })
    const keys: unknown = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8"))
    const apiKey = typeof keys === "object" && keys !== null && "apiKey" in keys && typeof keys.apiKey === "string" ? keys.apiKey : ""
    const client = yield* Layer.build(HeraldClient.layer({ url: `http://127.0.0.1:${port}`, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const accepted = new Set<string>()
    const publish = (round: string) =>
      Effect.exit(client.notifyBatch(Array.from({ length: Batch }, (_, i) => ({
        userId: "disk-user",
        kind: "status_update" as const,
        title: `${round}-${i}`,
        body,
        idempotencyKey: `${round}-${i}`
      })))).pipe(Effect.tap((exit) =>
        Effect.sync(() => {
          if (Exit.isSuccess(exit)) for (let i = 0; i < Batch; i++) accepted.add(`${round}-${i}`)
        })
      ))
    assert.isTrue(Exit.isSuccess(yield* publish("before")))

    const filler = join(dir, "filler")
    yield* fill(filler)
    // Until the store must allocate a page it may still succeed; keep publishing until it cannot.
    let refused: Exit.Exit<unknown, HeraldClientError> | undefined
    for (let round = 0; round < 100 && refused === undefined; round++) {
      const exit = yield* publish(`full${round}`)
      if (Exit.isFailure(exit)) refused = exit
    }
    assert.isDefined(refused, "publishing on a full disk failed at some point")
    if (refused !== undefined && Exit.isFailure(refused)) {
      const reason = refused.cause.reasons[0]
      assert.strictEqual(reason?._tag, "Fail")
      if (reason?._tag === "Fail") {
        assert.strictEqual(reason.error._tag, "StorageUnavailable", reason.error.message)
        if (reason.error._tag === "StorageUnavailable") assert.isTrue(reason.error.retryable)
      }
    }
    assert.isNull(server.child.exitCode, "the server is still running")
    console.log(`disk full: refused with ${refused !== undefined && Exit.isFailure(refused) ? String(refused.cause.reasons[0]?._tag === "Fail" ? refused.cause.reasons[0].error.message : "") : ""}`)

    rmSync(filler)
    // Retried with the same keys, the refused batch is stored once; later ones too.
    const retried = yield* Effect.gen(function*() {
      for (let attempt = 0; attempt < 60; attempt++) {
        const exits = [yield* publish("after")]
        if (exits.every(Exit.isSuccess)) return true
        yield* Effect.sleep("500 millis")
      }
      return false
    })
    assert.isTrue(retried, "publishing works again once space is freed")

    const stored = new Map<string, number>()
    let before: number | undefined
    while (true) {
      const page = yield* client.listInbox({ userId: "disk-user", limit: 100, ...(before === undefined ? {} : { before }) })
      for (const item of page.items) stored.set(item.title, (stored.get(item.title) ?? 0) + 1)
      if (page.nextBefore === null || page.nextBefore === undefined) break
      before = page.nextBefore
    }
    for (const title of accepted) assert.strictEqual(stored.get(title), 1, `${title} stored once`)
    assert.isTrue([...stored.values()].every((count) => count === 1), "nothing stored twice")
    console.log(`disk full: ${accepted.size} notifications accepted, ${stored.size} stored`)
    assert.strictEqual(yield* stopServer(server, "SIGINT"), 0)
  }).pipe(Effect.scoped), { timeout: 180_000 })
