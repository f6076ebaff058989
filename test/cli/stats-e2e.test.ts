/**
 * `herald stats` against a real server: the server runs in-process on a
 * fresh database, the CLI as a child process (`node packages/cli/src/bin.ts
 * stats … --url … --admin-key …`) from the repo root. A socket receives two
 * notifications first, so the numbers printed are the server's; `--json` is
 * decoded with the domain's `DeliveryStats`, so it must be its wire encoding.
 */
import { assert, layer } from "@effect/vitest"
import { HeraldClient } from "@herald/client"
import { DeliveryStats } from "@herald/domain"
import { Context, Effect, Layer, Schema } from "effect"
import { eventually } from "../support/eventually.ts"
import { openRaw, titleOf } from "../support/RawSocket.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"
import { lines, runCli } from "../support/HeraldCli.ts"


class Server extends Context.Service<Server, { readonly url: string }>()("@herald/test/cli/StatsServer") {
  static readonly layer = Layer.effect(Server, Effect.gen(function*() {
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url })
    const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const socket = yield* openRaw(server.wsUrl)
    yield* socket.sendJson({ type: "auth", token: (yield* client.issueClientToken("stats-user")).token })
    yield* socket.until("synced")
    for (const title of ["one", "two"]) {
      yield* client.notify({ userId: "stats-user", kind: "mention", title })
      assert.strictEqual(titleOf(yield* socket.next()), title)
    }
    return Server.of({ url: server.url })
  }))
}


/** Runs `herald stats …` with the admin key, without HERALD_* variables from the environment. */
const stats = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { url } = yield* Server
    return yield* runCli(["stats", ...args, "--url", url, "--admin-key", adminKey])
  })

const ok = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const run = yield* stats(args)
    assert.strictEqual(run.stderr, "", `stderr of herald stats ${args.join(" ")}`)
    assert.strictEqual(run.code, 0, `exit code of herald stats ${args.join(" ")}`)
    return lines(run.stdout)
  })

const decode = Schema.decodeUnknownSync(DeliveryStats)

layer(Server.layer, { excludeTestServices: true, timeout: "60 seconds" })("herald stats", (it) => {
  it.effect("--json prints one DeliveryStats line with the socket's session and frames", () =>
    Effect.gen(function*() {
      const json = yield* eventually(
        Effect.map(ok(["--window", "1m", "--json"]), (out) => out.map((line) => decode(JSON.parse(line)))),
        (parsed) => parsed[0]?.inAppDelivered === 2,
        { times: 20, every: "200 millis" }
      )
      assert.strictEqual(json.length, 1)
      const [result] = json
      assert.strictEqual(result?.window, "1m")
      assert.strictEqual(result?.nodes, 1)
      assert.strictEqual(result?.sockets.sessions, 1)
      assert.strictEqual(result?.latency.in_app.count, 2)
      assert.strictEqual(result?.emailsSent, 0)
    }))

  it.effect("for people: the window, a latency table per channel, sockets and deliveries; 5m by default", () =>
    Effect.gen(function*() {
      const out = yield* ok([])
      assert.match(out[0] ?? "", /^window: +5m \(whole minutes: .+\), 1 node reporting$/)
      assert.match(out.find((line) => line.includes("CHANNEL")) ?? "", /^ +CHANNEL +COUNT +P50 +P95 +P99$/)
      assert.isTrue(out.some((line) => /^ +in_app +2 +\d+(\.\d)? ms +\S+ ms +\S+ ms$/.test(line)), out.join("\n"))
      assert.isTrue(out.some((line) => /^ +push +0 +- +- +-$/.test(line)), out.join("\n"))
      assert.include(out, "sockets:      1 sessions, 0 errors (0%), 0 resumed (0%)")
      assert.include(out, "emails sent vs in-app delivered: 0 / 2")
      assert.include(out, "dead letters: 0")
    }))

  it.effect("a window the server does not know exits 2 naming the flag, before sending", () =>
    Effect.gen(function*() {
      const run = yield* stats(["--window", "2h"])
      assert.strictEqual(run.code, 2, `exit code (stderr: ${run.stderr})`)
      assert.strictEqual(run.stdout, "")
      assert.match(run.stderr, /window/)
    }))
})
