/**
 * `herald prefs` and `herald devices` against a real server: the server runs
 * in-process on a fresh database, the CLI as a child process
 * (`node packages/cli/src/bin.ts … --url … --api-key … --json`) from the repo
 * root, so stdout, stderr and the exit code are what is checked.
 */
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { testDatabase } from "../support/TestDatabase.ts"
import { apiKey, testServer } from "../support/TestServer.ts"
import { lines, runCli } from "../support/HeraldCli.ts"


/** A real server on a fresh database, for the CLI to talk to. */
class Server extends Context.Service<Server, { readonly url: string }>()("@herald/test/cli/Server") {
  static readonly layer = Layer.effect(Server, Effect.gen(function*() {
    const database = yield* testDatabase
    const server = yield* testServer({ databaseUrl: database.url })
    return Server.of({ url: server.url })
  }))
}


/**
 * Runs the CLI against the test server (`--json` unless `human`), without
 * HERALD_* variables from the environment. Asynchronous, so the in-process
 * server keeps answering while the child runs.
 */
const herald = (args: ReadonlyArray<string>, options: { readonly human?: boolean } = {}) =>
  Effect.gen(function*() {
    const { url } = yield* Server
    const argv = [...args, "--url", url, "--api-key", apiKey, ...(options.human ? [] : ["--json"])]
    return yield* runCli(argv)
  })

/** Runs the CLI, expects exit 0 and nothing on stderr, and parses each stdout line as JSON. */
const heraldJson = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const run = yield* herald(args)
    assert.strictEqual(run.stderr, "", `stderr of herald ${args.join(" ")}`)
    assert.strictEqual(run.code, 0, `exit code of herald ${args.join(" ")}`)
    return lines(run.stdout).map((line) => JSON.parse(line) as Record<string, unknown>)
  })

/** The one JSON line a command prints. */
const heraldJsonOne = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const values = yield* heraldJson(args)
    assert.strictEqual(values.length, 1, `herald ${args.join(" ")} prints one JSON line`)
    return values[0]!
  })

const allKinds = ["mention", "assignment", "status_update"] as const

layer(Server.layer, { excludeTestServices: true, timeout: "60 seconds" })("herald prefs and devices", (it) => {
  it.effect("prefs set --existing-before-rollout true gives the email-first defaults for every kind", () =>
    Effect.gen(function*() {
      const user = "cli-existing"
      const prefs = yield* heraldJsonOne(["prefs", "set", "--user", user, "--existing-before-rollout", "true"])
      assert.deepStrictEqual(prefs, {
        userId: user,
        existingBeforeRollout: true,
        emailAddress: null,
        kinds: {
          mention: { inApp: true, push: false, email: "immediate" },
          assignment: { inApp: true, push: false, email: "immediate" },
          status_update: { inApp: true, push: false, email: "immediate" }
        },
        digest: { schedule: { _tag: "daily", at: "09:00" }, timeZone: "UTC", includeRead: false }
      })
      assert.deepStrictEqual(yield* heraldJsonOne(["prefs", "get", "--user", user]), prefs, "prefs get shows the same")
    }))

  it.effect("prefs set --kind status_update --push on changes only that", () =>
    Effect.gen(function*() {
      const user = "cli-one-kind"
      const before = yield* heraldJsonOne(["prefs", "set", "--user", user, "--existing-before-rollout", "true"])
      const after = yield* heraldJsonOne(["prefs", "set", "--user", user, "--kind", "status_update", "--push", "on"])
      const kindsBefore = before["kinds"] as Record<string, unknown>
      assert.deepStrictEqual(after, {
        ...before,
        kinds: { ...kindsBefore, status_update: { inApp: true, push: true, email: "immediate" } }
      })
      assert.deepStrictEqual(yield* heraldJsonOne(["prefs", "get", "--user", user]), after)
    }))

  it.effect("per-kind flags without --kind change every kind; the email address is set and cleared", () =>
    Effect.gen(function*() {
      const user = "cli-all-kinds"
      const prefs = yield* heraldJsonOne([
        "prefs", "set", "--user", user, "--in-app", "off", "--email", "off", "--email-address", "cli@example.com"
      ])
      assert.strictEqual(prefs["emailAddress"], "cli@example.com")
      const kinds = prefs["kinds"] as Record<string, unknown>
      for (const kind of allKinds) assert.deepStrictEqual(kinds[kind], { inApp: false, push: true, email: "off" }, kind)
      const cleared = yield* heraldJsonOne(["prefs", "set", "--user", user, "--no-email-address"])
      assert.strictEqual(cleared["emailAddress"], null)
      assert.deepStrictEqual(cleared["kinds"], kinds, "the kinds stay as they were")
    }))

  it.effect("prefs get without --json prints a table of kinds, the email address and the rollout flag", () =>
    Effect.gen(function*() {
      const user = "cli-human"
      yield* heraldJsonOne(["prefs", "set", "--user", user, "--kind", "mention", "--push", "off", "--email", "immediate"])
      const run = yield* herald(["prefs", "get", "--user", user], { human: true })
      assert.strictEqual(run.code, 0)
      assert.strictEqual(run.stderr, "")
      const out = lines(run.stdout)
      assert.match(out[0] ?? "", /^KIND\s+IN-APP\s+PUSH\s+EMAIL$/)
      assert.match(out[1] ?? "", /^mention\s+on\s+off\s+immediate$/)
      assert.match(out[2] ?? "", /^assignment\s+on\s+on\s+digest$/)
      assert.match(out[3] ?? "", /^status_update\s+on\s+on\s+digest$/)
      assert.match(out[4] ?? "", /^email address: \(not set/)
      assert.strictEqual(out[5], "existing before rollout: no")
      assert.strictEqual(out[6], "digest: daily at 09:00 UTC, read items left out")
      assert.strictEqual(out.length, 7)
    }))

  it.effect("prefs set changes the digest settings and leaves the rest; prefs get shows them", () =>
    Effect.gen(function*() {
      const user = "cli-digest"
      const before = yield* heraldJsonOne(["prefs", "set", "--user", user, "--existing-before-rollout", "false"])
      const weekly = yield* heraldJsonOne([
        "prefs", "set", "--user", user, "--digest", "weekly", "--weekday", "monday", "--at", "08:30",
        "--time-zone", "Europe/London"
      ])
      assert.deepStrictEqual(weekly, {
        ...before,
        digest: { schedule: { _tag: "weekly", weekday: "monday", at: "08:30" }, timeZone: "Europe/London", includeRead: false }
      })
      const kept = yield* heraldJsonOne(["prefs", "set", "--user", user, "--digest-include-read", "true"])
      assert.deepStrictEqual(kept["digest"], {
        schedule: { _tag: "weekly", weekday: "monday", at: "08:30" },
        timeZone: "Europe/London",
        includeRead: true
      }, "the schedule and zone stay as they were")
      const hourly = yield* heraldJsonOne(["prefs", "set", "--user", user, "--digest", "hourly"])
      assert.deepStrictEqual(hourly["digest"], { schedule: { _tag: "hourly" }, timeZone: "Europe/London", includeRead: true })
      const run = yield* herald(["prefs", "get", "--user", user], { human: true })
      assert.strictEqual(run.code, 0)
      assert.strictEqual(lines(run.stdout).at(-1), "digest: hourly on the hour Europe/London, read items included")
    }))

  it.effect("devices add then list shows the device", () =>
    Effect.gen(function*() {
      const user = "cli-devices"
      const token = "cli-token-1"
      const device = yield* heraldJsonOne(["devices", "add", "--user", user, "--token", token, "--platform", "ios"])
      assert.deepStrictEqual(Object.keys(device).sort(), ["createdAt", "platform", "token", "userId"])
      assert.strictEqual(device["userId"], user)
      assert.strictEqual(device["token"], token)
      assert.strictEqual(device["platform"], "ios")
      assert.isFalse(Number.isNaN(Date.parse(String(device["createdAt"]))), "createdAt is an ISO date")
      const listed = yield* heraldJson(["devices", "list", "--user", user])
      assert.deepStrictEqual(listed, [device])
    }))

  it.effect("devices list without --json shortens long tokens in the table only", () =>
    Effect.gen(function*() {
      const user = "cli-devices-table"
      const token = `fcm-${"x".repeat(150)}-end12345`
      yield* heraldJsonOne(["devices", "add", "--user", user, "--token", token, "--platform", "android"])
      const run = yield* herald(["devices", "list", "--user", user], { human: true })
      assert.strictEqual(run.code, 0)
      const out = lines(run.stdout)
      assert.strictEqual(out.length, 2)
      assert.match(out[0] ?? "", /^PLATFORM\s+REGISTERED\s+TOKEN$/)
      assert.match(out[1] ?? "", /^android\s+\S.*\s+fcm-x+…end12345$/)
      assert.notInclude(run.stdout, token)
      const listed = yield* heraldJson(["devices", "list", "--user", user])
      assert.strictEqual(listed[0]?.["token"], token, "--json keeps the whole token")
      const none = yield* herald(["devices", "list", "--user", "cli-nobody"], { human: true })
      assert.strictEqual(none.stdout, "no devices registered to cli-nobody\n")
      assert.deepStrictEqual(yield* heraldJson(["devices", "list", "--user", "cli-nobody"]), [])
    }))

  it.effect("devices remove twice gives removed true, then false", () =>
    Effect.gen(function*() {
      const user = "cli-remove"
      const token = "cli-token-2"
      yield* heraldJsonOne(["devices", "add", "--user", user, "--token", token, "--platform", "web"])
      assert.deepStrictEqual(yield* heraldJsonOne(["devices", "remove", "--user", user, "--token", token]), { removed: true })
      assert.deepStrictEqual(yield* heraldJsonOne(["devices", "remove", "--user", user, "--token", token]), { removed: false })
      assert.deepStrictEqual(yield* heraldJson(["devices", "list", "--user", user]), [])
      const human = yield* herald(["devices", "remove", "--user", user, "--token", token], { human: true })
      assert.strictEqual(human.code, 0)
      assert.strictEqual(human.stdout, `not registered to ${user}\n`)
    }))
})
