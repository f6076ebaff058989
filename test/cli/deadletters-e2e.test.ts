/**
 * `herald deadletters` against a real server: the server runs in-process on
 * a fresh database, the CLI as a child process
 * (`node packages/cli/src/bin.ts … --url … --admin-key …`) from the repo
 * root, so stdout, stderr and the exit code are what is checked. The server
 * has no channels, so there are no dead letters; producing them is tested
 * with the delivery worker (test/integration/deliveries.test.ts).
 */
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"
import { type CliRun, lines, runCli } from "../support/HeraldCli.ts"


/** A real server on a fresh database, and an empty data dir so no secrets.json from the repo is picked up. */
class Server extends Context.Service<Server, { readonly url: string; readonly dataDir: string }>()(
  "@herald/test/cli/DeadLettersServer"
) {
  static readonly layer = Layer.effect(Server, Effect.gen(function*() {
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url })
    const dataDir = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), "herald-cli-deadletters-"))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
    )
    return Server.of({ url: server.url, dataDir })
  }))
}


/**
 * Runs the CLI against the test server with exactly the given arguments (plus
 * `--url`) and environment, without HERALD_* variables from the process's.
 * Asynchronous, so the in-process server keeps answering while the child runs.
 */
const herald = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const { dataDir, url } = yield* Server
    return yield* runCli([...args, "--url", url], { HERALD_DATA_DIR: dataDir, ...env })
  })

const expectEmpty = (run: CliRun, stdout: string, what: string) => {
  assert.strictEqual(run.stderr, "", `stderr of ${what}`)
  assert.strictEqual(run.code, 0, `exit code of ${what}`)
  assert.strictEqual(run.stdout, stdout, `stdout of ${what}`)
}

layer(Server.layer, { excludeTestServices: true, timeout: "60 seconds" })("herald deadletters", (it) => {
  it.effect("deadletters list --json prints nothing and exits 0 when there are no dead letters", () =>
    Effect.gen(function*() {
      expectEmpty(yield* herald(["deadletters", "list", "--admin-key", adminKey, "--json"]), "", "--json")
      const filtered = yield* herald([
        "deadletters", "list", "--user", "alice", "--channel", "email", "--limit", "500", "--admin-key", adminKey, "--json"
      ])
      expectEmpty(filtered, "", "--json with every filter")
    }))

  it.effect("deadletters list without --json says there are none", () =>
    Effect.gen(function*() {
      expectEmpty(yield* herald(["deadletters", "list", "--admin-key", adminKey]), "no dead letters\n", "the table")
    }))

  it.effect("the admin key may come from HERALD_ADMIN_KEY or the adminKey in secrets.json", () =>
    Effect.gen(function*() {
      const { dataDir } = yield* Server
      expectEmpty(yield* herald(["deadletters", "list", "--json"], { HERALD_ADMIN_KEY: adminKey }), "", "HERALD_ADMIN_KEY")
      const withSecrets = yield* Effect.promise(() => mkdtemp(join(dataDir, "secrets-")))
      yield* Effect.promise(() => writeFile(join(withSecrets, "secrets.json"), JSON.stringify({ apiKey, adminKey })))
      expectEmpty(yield* herald(["deadletters", "list", "--json"], { HERALD_DATA_DIR: withSecrets }), "", "secrets.json")
    }))

  it.effect("the app key given as --admin-key is refused: exit 1 and one unauthorized line", () =>
    Effect.gen(function*() {
      const run = yield* herald(["deadletters", "list", "--admin-key", apiKey, "--json"])
      assert.strictEqual(run.code, 1)
      assert.strictEqual(run.stdout, "")
      assert.strictEqual(run.stderr, "herald: unauthorized: the server refused the admin key (401)\n")
      assert.strictEqual(lines(run.stderr).length, 1)
    }))

  it.effect("the admin key given as --api-key is not an admin key", () =>
    Effect.gen(function*() {
      const run = yield* herald(["deadletters", "list", "--api-key", adminKey, "--json"])
      assert.strictEqual(run.code, 2)
      assert.strictEqual(run.stdout, "")
      assert.match(run.stderr, /^herald: no admin key: pass --admin-key or set HERALD_ADMIN_KEY /)
    }))
})
