/**
 * The output contract of every `herald` command that prints a result, against
 * a real server (in-process, fresh database) with the CLI as child processes:
 * - with `--json`, stdout is one JSON object per line and stderr is empty;
 * - without it, stdout is text for people, not JSON, and tables are aligned;
 * - a server that is not running: exit 1, nothing on stdout, one `herald: …` line on stderr;
 *   a key the server refuses (checked once, with `inbox`): the same;
 * - a bad flag value: exit 2, nothing on stdout, one `herald: …` line naming the flag.
 *
 * Each command's runs are independent (own users, data seeded up front), so
 * all of them start together once and the tests read their results.
 */
import { assert, layer } from "@effect/vitest"
import { HeraldAdminClient, HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { type CliRun, lines, runCli } from "../support/HeraldCli.ts"
import { testDatabase } from "../support/TestDatabase.ts"
import { adminKey, apiKey, testServer } from "../support/TestServer.ts"

interface Case {
  /** The command line after `herald`, without the shared flags. */
  readonly args: ReadonlyArray<string>
  /** How many JSON lines it prints for the data seeded below. */
  readonly jsonLines: number
  /** The output for people starts with a table with a header row: all of it, or its first N lines. */
  readonly table?: number | "all"
  /** A command line with a bad value, and the flag the error must name. */
  readonly bad: { readonly args: ReadonlyArray<string>; readonly flag: string }
}

/** `bad` of a case: `flag` set to `value` on the command line `args`. */
const badValue = (args: ReadonlyArray<string>, flag: string, value: string) => ({ args: [...args, flag, value], flag })

const cases: ReadonlyArray<Case> = [
  {
    args: ["send", "--user", "out-send", "--kind", "mention", "--title", "Hello"],
    jsonLines: 1,
    bad: badValue(["send", "--user", "out-send", "--title", "Hello"], "--kind", "bogus")
  },
  {
    args: ["inbox", "--user", "out-inbox"],
    jsonLines: 3,
    table: "all",
    bad: badValue(["inbox", "--user", "out-inbox"], "--limit", "0")
  },
  {
    args: ["read", "--user", "out-read", "--all"],
    jsonLines: 1,
    bad: badValue(["read", "--user", "out-read"], "--id", "nope")
  },
  {
    args: ["token", "--user", "out-token"],
    jsonLines: 1,
    bad: badValue(["token", "--user", "out-token"], "--ttl", "5")
  },
  {
    args: ["prefs", "get", "--user", "out-prefs"],
    jsonLines: 1,
    table: 4,
    bad: badValue(["prefs", "get"], "--user", "a b")
  },
  {
    args: ["prefs", "set", "--user", "out-prefs-set", "--push", "on"],
    jsonLines: 1,
    table: 4,
    bad: badValue(["prefs", "set", "--user", "out-prefs-set"], "--push", "maybe")
  },
  {
    args: ["devices", "add", "--user", "out-device-add", "--token", "out-add-token", "--platform", "android"],
    jsonLines: 1,
    bad: badValue(["devices", "add", "--user", "out-device-add", "--token", "t"], "--platform", "blackberry")
  },
  {
    args: ["devices", "list", "--user", "out-devices"],
    jsonLines: 2,
    table: "all",
    bad: badValue(["devices", "list"], "--user", "a b")
  },
  {
    args: ["devices", "remove", "--user", "out-device-remove", "--token", "out-remove-token"],
    jsonLines: 1,
    bad: badValue(["devices", "remove", "--user", "out-device-remove"], "--token", "a b")
  },
  {
    args: ["digest", "preview", "--user", "out-digest"],
    jsonLines: 1,
    bad: badValue(["digest", "preview"], "--user", "a b")
  },
  {
    args: ["digest", "send-now", "--user", "out-digest-now"],
    jsonLines: 1,
    bad: badValue(["digest", "send-now"], "--user", "a b")
  },
  // No flag of its own: the shared --url stands in.
  { args: ["rollout", "status"], jsonLines: 1, bad: badValue(["rollout", "status"], "--url", "nope") },
  {
    args: ["rollout", "history"],
    jsonLines: 1,
    table: "all",
    bad: badValue(["rollout", "history"], "--limit", "0")
  },
  { args: ["stats"], jsonLines: 1, bad: badValue(["stats"], "--window", "2h") }
]

/** What each case printed: with --json, for people, against no server, and with its bad value. */
interface Runs {
  readonly json: CliRun
  readonly human: CliRun
  readonly noServer: CliRun
  readonly bad: CliRun
}

// Nothing listens on port 1, so a call fails to connect at once.
const noServer = { HERALD_URL: "http://127.0.0.1:1", HERALD_API_KEY: apiKey, HERALD_ADMIN_KEY: adminKey }

/** The data the cases read: their users' notifications, devices, digest and one rollout change. */
const seed = (url: string) =>
  Effect.gen(function*() {
    const client = yield* Layer.build(HeraldClient.layer({ url, apiKey })).pipe(Effect.map(Context.get(HeraldClient)))
    const admin = yield* Layer.build(HeraldAdminClient.layer({ url, adminKey })).pipe(
      Effect.map(Context.get(HeraldAdminClient))
    )
    for (const title of ["first", "second", "third"]) yield* client.notify({ userId: "out-inbox", kind: "mention", title })
    yield* client.notify({ userId: "out-read", kind: "assignment", title: "to read" })
    yield* client.registerDevice("out-devices", "out-phone", "android")
    yield* client.registerDevice("out-devices", "out-laptop", "web")
    yield* client.registerDevice("out-device-remove", "out-remove-token", "ios")
    yield* client.updatePreferences("out-digest", {
      emailAddress: "d@example.com",
      kinds: { mention: { email: "digest" } }
    })
    yield* client.notify({ userId: "out-digest", kind: "mention", title: "for the digest" })
    yield* admin.changeRollout({ action: "allow", userId: "out-allowed", actor: "output-test" })
  }).pipe(Effect.orDie)

class CaseRuns extends Context.Service<CaseRuns, {
  readonly cases: ReadonlyMap<Case, Runs>
  /** `herald inbox` with an app key the server does not know. */
  readonly refused: CliRun
}>()("@herald/test/cli/CaseRuns") {
  static readonly layer = Layer.effect(
    CaseRuns,
    Effect.gen(function*() {
      const database = yield* testDatabase
      const server = yield* testServer({ databaseUrl: database.url })
      yield* seed(server.url)
      const live = { HERALD_URL: server.url, HERALD_API_KEY: apiKey, HERALD_ADMIN_KEY: adminKey }
      const runs = yield* Effect.forEach(cases, (c) =>
        Effect.all({
          json: runCli([...c.args, "--json"], live),
          human: runCli(c.args, live),
          noServer: runCli([...c.args, "--json"], noServer),
          // Against no server, so exit 2 rather than 1 shows the value was refused before anything was sent.
          bad: runCli(c.bad.args, noServer)
        }, { concurrency: "unbounded" }).pipe(Effect.map((r) => [c, r] as const)), { concurrency: 3 })
      const refused = yield* runCli(["inbox", "--user", "out-inbox", "--json"], { ...live, HERALD_API_KEY: "not-the-key" })
      return CaseRuns.of({ cases: new Map(runs), refused })
    })
  )
}

const isJsonObject = (line: string) => {
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === "object" && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

/** Where the header's columns start: its first character and every one after two or more spaces. */
const columnStarts = (header: string) => [...header.matchAll(/(?:^|\s{2})(\S)/g)].map((m) => (m.index ?? 0) + m[0].length - 1)

/** Every row has a cell starting exactly where each header column starts (padded with spaces before it). */
const assertAligned = (table: ReadonlyArray<string>) => {
  const [header = "", ...rows] = table
  const starts = columnStarts(header)
  assert.isAbove(starts.length, 1, `a header row with columns: ${header}`)
  for (const row of rows) {
    for (const start of starts) {
      const aligned = row[start] !== undefined && row[start] !== " " && (start === 0 || row[start - 1] === " ")
      assert.isTrue(aligned, `column at ${start} aligned:\n${table.join("\n")}`)
    }
  }
}

const runsOf = (c: Case) =>
  Effect.gen(function*() {
    const runs = (yield* CaseRuns).cases.get(c)
    assert.isDefined(runs)
    return runs
  })

layer(CaseRuns.layer, { excludeTestServices: true, timeout: "90 seconds" })("herald output", (it) => {
  it.effect("a key the server refuses: exit 1, one herald: unauthorized line", () =>
    Effect.gen(function*() {
      const { refused } = yield* CaseRuns
      assert.strictEqual(refused.code, 1, refused.stderr)
      assert.strictEqual(refused.stdout, "")
      assert.strictEqual(lines(refused.stderr).length, 1, refused.stderr)
      assert.match(refused.stderr, /^herald: unauthorized: /)
    }))

  for (const c of cases) {
    // The command's path: the words before its first flag.
    const first = c.args.findIndex((arg) => arg.startsWith("-"))
    const name = (first === -1 ? c.args : c.args.slice(0, first)).join(" ")

    it.effect(`${name} --json: ${c.jsonLines} JSON object line(s) on stdout, nothing on stderr`, () =>
      Effect.gen(function*() {
        const { json } = yield* runsOf(c)
        assert.strictEqual(json.code, 0, json.stderr)
        assert.strictEqual(json.stderr, "")
        const out = lines(json.stdout)
        assert.strictEqual(out.length, c.jsonLines, json.stdout)
        for (const line of out) assert.isTrue(isJsonObject(line), `a JSON object: ${line}`)
        assert.isTrue(json.stdout.endsWith("\n"), "every line ends with a newline")
      }))

    it.effect(`${name}: text for people by default${c.table === undefined ? "" : ", in an aligned table"}`, () =>
      Effect.gen(function*() {
        const { human } = yield* runsOf(c)
        assert.strictEqual(human.code, 0, human.stderr)
        const out = lines(human.stdout)
        assert.isAbove(out.length, 0)
        for (const line of out) assert.isFalse(isJsonObject(line), `not JSON: ${line}`)
        if (c.table !== undefined) assertAligned(c.table === "all" ? out : out.slice(0, c.table))
      }))

    it.effect(`${name} with no server running: exit 1, one herald: line on stderr`, () =>
      Effect.gen(function*() {
        const { noServer } = yield* runsOf(c)
        assert.strictEqual(noServer.code, 1, noServer.stderr)
        assert.strictEqual(noServer.stdout, "")
        assert.strictEqual(lines(noServer.stderr).length, 1, noServer.stderr)
        assert.match(noServer.stderr, /^herald: cannot reach http:\/\/127\.0\.0\.1:1\b/)
      }))

    it.effect(`${name} with a bad ${c.bad.flag}: exit 2, one herald: line naming it`, () =>
      Effect.gen(function*() {
        const { bad } = yield* runsOf(c)
        assert.strictEqual(bad.code, 2, bad.stderr)
        assert.strictEqual(bad.stdout, "")
        assert.strictEqual(lines(bad.stderr).length, 1, bad.stderr)
        assert.match(bad.stderr, /^herald: /)
        assert.include(bad.stderr, c.bad.flag)
      }))
  }
})
