/**
 * `herald rollout` against a real server: the server runs in-process on a
 * fresh database, the CLI as a child process
 * (`node packages/cli/src/bin.ts rollout … --url … --admin-key …`) from the
 * repo root, so stdout, stderr and the exit code are what is checked. `--json`
 * lines are decoded with the domain's schemas, so they must be exactly the
 * wire encoding of `RolloutStatus`, `RolloutState` and `RolloutChange`.
 *
 * The tests share one server and run in order: the first sees the flag as a
 * fresh database has it (100 %, kill switch off).
 */
import { assert, layer } from "@effect/vitest"
import { RolloutChange, RolloutState, RolloutStatus } from "@herald/domain"
import { Context, Effect, Layer, Schema } from "effect"
import { hostname, userInfo } from "node:os"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"
import { type CliRun, lines, runCli } from "../support/HeraldCli.ts"


class Server extends Context.Service<Server, { readonly url: string }>()("@herald/test/cli/RolloutServer") {
  static readonly layer = Layer.effect(Server, Effect.gen(function*() {
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url })
    return Server.of({ url: server.url })
  }))
}


/**
 * Runs `herald rollout …` against the test server with the admin key, without
 * HERALD_* variables from the environment. Asynchronous, so the in-process
 * server keeps answering while the child runs.
 */
const rollout = (args: ReadonlyArray<string>, key: string = adminKey) =>
  Effect.gen(function*() {
    const { url } = yield* Server
    return yield* runCli(["rollout", ...args, "--url", url, "--admin-key", key])
  })

/** Runs it and expects success: exit 0, nothing on stderr; answers stdout's lines. */
const ok = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const run = yield* rollout(args)
    const what = `herald rollout ${args.join(" ")}`
    assert.strictEqual(run.stderr, "", `stderr of ${what}`)
    assert.strictEqual(run.code, 0, `exit code of ${what}`)
    return lines(run.stdout)
  })

/** The one `--json` line of a command, decoded with `schema`. */
const okJson = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out = yield* ok([...args, "--json"])
    assert.strictEqual(out.length, 1, `herald rollout ${args.join(" ")} --json prints one line`)
    return Schema.decodeUnknownSync(schema)(JSON.parse(out[0] ?? ""))
  })

const history = (limit: number) =>
  Effect.gen(function*() {
    const out = yield* ok(["history", "--limit", String(limit), "--json"])
    return out.map((line) => Schema.decodeUnknownSync(RolloutChange)(JSON.parse(line)))
  })

/** Expects exit 2, nothing on stdout and one line on stderr matching `pattern`. */
const badInput = (run: CliRun, pattern: RegExp) => {
  assert.strictEqual(run.code, 2, `exit code (stderr: ${run.stderr})`)
  assert.strictEqual(run.stdout, "")
  assert.strictEqual(lines(run.stderr).length, 1)
  assert.match(run.stderr, pattern)
}

layer(Server.layer, { excludeTestServices: true, timeout: "60 seconds" })("herald rollout", (it) => {
  it.effect("status on a fresh server: 100 %, kill switch off, triggers and exit criteria listed", () =>
    Effect.gen(function*() {
      const out = yield* ok(["status"])
      assert.include(out, "percentage:   100%")
      assert.include(out, "kill switch:  off")
      assert.isTrue(out.some((line) => /^users in: +\d+ of \d+ known$/.test(line)), out.join("\n"))
      assert.isTrue(out.some((line) => /^rollback triggers over the last 5 min/.test(line)), out.join("\n"))
      assert.isTrue(out.some((line) => /^ +socket_error_rate +(-|\S+%) +1% +(pass|no-data) /.test(line)), out.join("\n"))
      assert.isTrue(out.some((line) => /^ +delivery_p95 +(-|\S+ ms) +2000 ms /.test(line)), out.join("\n"))

      const status = yield* okJson(RolloutStatus, ["status"])
      assert.strictEqual(status.state.percentage, 100)
      assert.isFalse(status.state.killed)
      assert.strictEqual(status.guard.windowSeconds, 300)
      assert.isAbove(status.guard.triggers.length, 0)
      assert.isAbove(status.guard.exitCriteria.length, 0)
    }))

  it.effect("set 25: prints the new state; status shows 25 %; history has the change, its actor and 100% → 25%", () =>
    Effect.gen(function*() {
      const out = yield* ok(["set", "25", "--actor", "ops@ci", "--reason", "phase 2"])
      assert.strictEqual(out.length, 1)
      assert.match(out[0] ?? "", /^25%, kill switch off, allowed: none, denied: none \(version \d+\)$/)

      assert.include(yield* ok(["status"]), "percentage:   25%")
      assert.strictEqual((yield* okJson(RolloutStatus, ["status"])).state.percentage, 25)

      const table = yield* ok(["history"])
      assert.match(table[0] ?? "", /^TIME\s+ACTOR\s+ACTION\s+CHANGE\s+REASON$/)
      assert.match(table[1] ?? "", /^\S+ \S+\s+ops@ci\s+set\s+100% → 25%\s+phase 2$/)

      const [latest] = yield* history(1)
      assert.strictEqual(latest?.action, "set")
      assert.strictEqual(latest?.actor, "ops@ci")
      assert.strictEqual(latest?.reason, "phase 2")
      assert.strictEqual(latest?.from.percentage, 100)
      assert.strictEqual(latest?.to.percentage, 25)
    }))

  it.effect("set takes decimals and, without --actor, records the login name @ host", () =>
    Effect.gen(function*() {
      const state = yield* okJson(RolloutState, ["set", "12.5"])
      assert.strictEqual(state.percentage, 12.5)
      const [latest] = yield* history(1)
      assert.strictEqual(latest?.actor, `${userInfo().username}@${hostname()}`)
      assert.isNull(latest?.reason)
      assert.match((yield* ok(["history", "--limit", "1"]))[1] ?? "", /\s25% → 12\.5%\s+-$/)
    }))

  it.effect("kill turns the kill switch ON and resume turns it off, both in the history", () =>
    Effect.gen(function*() {
      const killed = yield* ok(["kill", "--reason", "drill"])
      assert.match(killed[0] ?? "", /^12\.5%, kill switch ON, /)
      assert.include(yield* ok(["status"]), "kill switch:  ON")
      assert.isTrue((yield* okJson(RolloutStatus, ["status"])).state.killed)

      const resumed = yield* okJson(RolloutState, ["resume"])
      assert.isFalse(resumed.killed)
      assert.strictEqual(resumed.percentage, 12.5)

      const table = yield* ok(["history", "--limit", "2"])
      assert.match(table[1] ?? "", /\sresume\s+killed: yes → no\s+-$/)
      assert.match(table[2] ?? "", /\skill\s+killed: no → yes\s+drill$/)
    }))

  it.effect("allow and deny put users on the lists, unallow and undeny take them off", () =>
    Effect.gen(function*() {
      assert.match((yield* ok(["allow", "alice"]))[0] ?? "", /allowed: alice, denied: none /)
      const denied = yield* okJson(RolloutState, ["deny", "bob", "--reason", "old app"])
      assert.deepStrictEqual([...denied.allow], ["alice"])
      assert.deepStrictEqual([...denied.deny], ["bob"])

      const table = yield* ok(["history", "--limit", "2"])
      assert.match(table[1] ?? "", /\sdeny bob\s+denied: no → yes\s+old app$/)
      assert.match(table[2] ?? "", /\sallow alice\s+allowed: no → yes\s+-$/)
      const [deny] = yield* history(1)
      assert.strictEqual(deny?.userId, "bob")

      yield* ok(["unallow", "alice"])
      const after = yield* okJson(RolloutState, ["undeny", "bob"])
      assert.strictEqual(after.allow.length, 0)
      assert.strictEqual(after.deny.length, 0)
      assert.match((yield* ok(["history", "--limit", "1"]))[1] ?? "", /\sundeny bob\s+denied: yes → no\s+-$/)
    }))

  it.effect("a bad percentage exits 2 naming the argument, and changes nothing", () =>
    Effect.gen(function*() {
      const before = (yield* history(1))[0]?.id
      badInput(yield* rollout(["set", "150"]), /^herald: Invalid value for argument <percent>: "150"\. Expected a percentage from 0 to 100 /)
      badInput(yield* rollout(["set", "abc"]), /^herald: Invalid value for argument <percent>: "abc"\. /)
      badInput(yield* rollout(["set"]), /^herald: Missing required argument: percent /)
      badInput(yield* rollout(["allow"]), /^herald: Missing required argument: user /)
      assert.strictEqual((yield* history(1))[0]?.id, before)
    }))

  it.effect("a reason longer than the server takes is refused before sending: exit 2 naming reason", () =>
    Effect.gen(function*() {
      const before = (yield* history(1))[0]?.id
      badInput(yield* rollout(["kill", "--reason", "x".repeat(501)]), /^herald: invalid request: reason: /)
      assert.strictEqual((yield* history(1))[0]?.id, before)
      assert.isFalse((yield* okJson(RolloutStatus, ["status"])).state.killed)
    }))

  it.effect("history --json prints one change per line, newest first", () =>
    Effect.gen(function*() {
      const changes = yield* history(1000)
      assert.isAtLeast(changes.length, 8)
      const ids = changes.map((change) => change.id)
      assert.deepStrictEqual(ids, [...ids].sort((a, b) => b - a))
      assert.deepStrictEqual(changes.slice(-1).map((change) => change.to.percentage), [25])
    }))

  it.effect("the app key given as --admin-key is refused: exit 1 and one unauthorized line", () =>
    Effect.gen(function*() {
      const run = yield* rollout(["status", "--json"], apiKey)
      assert.strictEqual(run.code, 1)
      assert.strictEqual(run.stdout, "")
      assert.strictEqual(run.stderr, "herald: unauthorized: the server refused the admin key (401)\n")
    }))
})
