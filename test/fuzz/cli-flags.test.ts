/**
 * Fuzzing the `herald` CLI's command line with fast-check. The argv is built
 * from the command tree itself (test/support/CommandTree.ts): a real command
 * path, a random subset of the flags its help document lists (its own and
 * the shared ones) with values that fit the flag's metavar or do not (negative,
 * huge, NaN, empty, Unicode, another flag), its positional arguments or junk,
 * unknown flags and `--`. The server URL points at a port where nothing
 * listens, so a command that gets past parsing fails at once on the network.
 *
 * - in-process (many runs, cheap): the run ends in success or help, or in a
 *   failure that `ErrorReport.report` turns into its one `herald: …` line with
 *   exit code 1 or 2, never a defect (a defect would be reported as
 *   "unexpected error" and is a bug);
 * - as users run it, in a child process (few runs, since each costs a
 *   process): exit 0 with nothing on stderr, or exit 1 or 2 with exactly one
 *   `herald: …` line on stderr and no stack trace.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, layer } from "@effect/vitest"
import { cli, Version } from "@herald/cli/src/Cli.ts"
import { report } from "@herald/cli/src/ErrorReport.ts"
import { Cause, Context, Effect, Exit, Layer } from "effect"
import { CliConfig, CliOutput, Command, GlobalFlag, type HelpDoc } from "effect/cli"
import fc from "fast-check"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { commandTree, helpDocOf } from "../support/CommandTree.ts"
import { runCli } from "../support/HeraldCli.ts"
import { checkProperty } from "../support/Property.ts"
import { anyString, rawValueText } from "./Arbitraries.ts"

/** Nothing listens here: every call fails to connect at once. */
const DeadUrl = "http://127.0.0.1:1"

/** Values that fit a flag's metavar (as its help shows it), mixed with values that do not. */
const valueFor = (metavar: string): fc.Arbitrary<string> => {
  const garbage = fc.oneof(anyString, rawValueText, fc.constantFrom("", "-1", "--", "--help", "0", "1e999", "NaN", " "))
  const choices = metavar.includes("|") ? metavar.split("|") : []
  const fitting: fc.Arbitrary<string> = choices.length > 0
    ? fc.constantFrom(...choices)
    : /^(N|SECONDS|CURSOR|PERCENT)$/.test(metavar)
    ? fc.oneof(fc.integer({ min: -5, max: 1_000_000 }).map(String), fc.double().map(String), fc.constantFrom("100", "100.5", "9007199254740993"))
    : metavar === "USER"
    ? fc.oneof(fc.stringMatching(/^[A-Za-z0-9_\-.@:|]{1,12}$/), fc.constantFrom("a b", "x".repeat(129)))
    : metavar === "TIME"
    ? fc.constantFrom("30m", "2h", "7d", "0m", "-1h", "2026-11-30T10:00:00Z", "2026-13-45T99:00:00Z", "yesterday")
    : metavar === "URL"
    ? fc.constantFrom(DeadUrl, "ftp://x", "http://", "http://[::1", "127.0.0.1:1")
    : metavar === "HH:MM"
    ? fc.constantFrom("08:30", "24:00", "7:5", "23:60")
    : anyString
  return fc.oneof({ arbitrary: fitting, weight: 6 }, { arbitrary: garbage, weight: 1 })
}

interface Target {
  readonly path: ReadonlyArray<string>
  readonly doc: HelpDoc.HelpDoc
}

const argvFor = (targets: ReadonlyArray<Target>): fc.Arbitrary<ReadonlyArray<string>> =>
  fc.constantFrom(...targets).chain(({ doc, path }) => {
    const tokensOf = (flag: HelpDoc.FlagDoc): fc.Arbitrary<ReadonlyArray<string>> =>
      flag.type === "boolean"
        ? fc.oneof({ arbitrary: fc.constant([`--${flag.name}`]), weight: 4 }, { arbitrary: valueFor("true|false|yes").map((value) => [`--${flag.name}=${value}`]), weight: 1 })
        : fc.oneof({ arbitrary: valueFor(flag.type).map((value) => [`--${flag.name}`, value]), weight: 9 }, { arbitrary: fc.constant([`--${flag.name}`]), weight: 1 })
    // Required flags are mostly given, so that most runs get past parsing to the command itself.
    const required = doc.flags.filter((flag) => flag.required)
    // The connection flags are given once each (a repeated flag is refused, which says nothing new), mostly fixed.
    const connection = new Set(["url", "api-key", "admin-key"])
    const optional = [...doc.flags.filter((flag) => !flag.required), ...(doc.inheritedFlags ?? []).filter((flag) => !connection.has(flag.name))]
    const flagTokens = fc.tuple(
      fc.tuple(...required.map((flag) => fc.oneof({ arbitrary: tokensOf(flag), weight: 9 }, { arbitrary: fc.constant([]), weight: 1 }))),
      fc.subarray(optional, { maxLength: Math.min(3, optional.length) }).chain((chosen) => fc.tuple(...chosen.map(tokensOf))),
      fc.oneof({ arbitrary: fc.constant(["--url", DeadUrl]), weight: 9 }, { arbitrary: valueFor("URL").map((url) => ["--url", url]), weight: 1 }),
      fc.oneof(
        { arbitrary: fc.constant(["--api-key", "k", "--admin-key", "k"]), weight: 4 },
        { arbitrary: fc.constant([]), weight: 1 },
        { arbitrary: fc.tuple(valueFor("KEY"), valueFor("KEY")).map(([app, admin]) => ["--api-key", app, "--admin-key", admin]), weight: 1 }
      )
    ).map(([mandatory, extra, url, keys]) => [...mandatory.flat(), ...extra.flat(), ...url, ...keys])
    const argTokens = fc.tuple(...(doc.args ?? []).map((arg) => fc.option(valueFor(arg.type), { nil: undefined, freq: 8 })))
    const junk = fc.oneof(
      { arbitrary: fc.constant([]), weight: 3 },
      { arbitrary: fc.array(fc.oneof(fc.constantFrom("--nope", "-x", "--", "-", "--url=", "--json=maybe", "extra"), anyString), { minLength: 1, maxLength: 2 }), weight: 1 }
    )
    return fc.tuple(flagTokens, argTokens, junk).map(([flagged, args, extra]) => [
      ...path.slice(1),
      ...flagged,
      ...args.flatMap((arg) => arg === undefined ? [] : [arg]),
      ...extra
    ])
  })

// The CLI's own settings (Cli.ts), with a presenter that keeps help instead of printing it.
const silent: CliOutput.Presenter = { present: () => Effect.void }
const cliLayer = Layer.mergeAll(
  CliOutput.layerPresenter(silent),
  CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions] }),
  NodeServices.layer
)

class Targets extends Context.Service<Targets, ReadonlyArray<Target>>()("@herald/test/fuzz/Targets") {
  static readonly layer = Layer.effect(
    Targets,
    Effect.forEach(commandTree(), ({ path }) => Effect.map(helpDocOf(path), (doc): Target => ({ path, doc })))
  )
}

layer(Targets.layer, { excludeTestServices: true, timeout: "60 seconds" })("fuzzed herald command lines", (it) => {
  it.effect("in-process, any argv ends in help or in one reported failure with exit 1 or 2, never a defect", () =>
    Effect.gen(function*() {
      const targets = yield* Targets
      // Guards the derivation: without the commands and their flags the property would prove little.
      assert.isAtLeast(targets.length, 20)
      assert.isAtLeast(targets.flatMap((t) => t.doc.flags).length, 40)
      const run = (argv: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const exit = yield* Command.runWith(cli, { version: Version })(argv).pipe(Effect.provide(cliLayer), Effect.exit)
          if (Exit.isSuccess(exit)) return
          const label = `herald ${argv.map((a) => JSON.stringify(a)).join(" ")} → ${Cause.pretty(exit.cause)}`
          assert.isFalse(Cause.hasInterruptsOnly(exit.cause), `interrupted: ${label}`)
          assert.isFalse(exit.cause.reasons.some((reason) => reason._tag === "Die"), `a defect is a bug: ${label}`)
          const { exitCode, message } = report(Cause.squash(exit.cause))
          // A group alone (`herald prefs`) ends in help without errors: printed already, exit 0, no line.
          if (exitCode === 0) return assert.isUndefined(message, label)
          assert.include([1, 2], exitCode, label)
          assert.isDefined(message, label)
          assert.notMatch(message ?? "", /^unexpected error/, label)
          assert.notInclude(message ?? "", "\n", `one line: ${label}`)
        })
      const { numRuns } = yield* checkProperty(argvFor(targets), run, { numRuns: 300 })
      assert.isAtLeast(numRuns, 1)
    }), 240_000)

  it.effect("as a child process, any argv exits 0 quietly or 1/2 with one herald: line on stderr and no stack trace", () =>
    Effect.gen(function*() {
      const targets = yield* Targets
      const dataDir = mkdtempSync(join(tmpdir(), "herald-fuzz-cli-"))
      // A process argument cannot hold a NUL byte: the OS would refuse the spawn itself.
      const argvs = argvFor(targets).filter((argv) => argv.every((arg) => !arg.includes("\u0000")))
      const run = (argv: ReadonlyArray<string>) =>
        Effect.gen(function*() {
          const result = yield* runCli(argv, { HERALD_DATA_DIR: dataDir })
          const label = `herald ${argv.map((a) => JSON.stringify(a)).join(" ")} → exit ${result.code}, stderr ${JSON.stringify(result.stderr)}`
          assert.include([0, 1, 2], result.code, label)
          assert.notMatch(result.stderr, /^\s+at /m, `no stack trace: ${label}`)
          if (result.code === 0) {
            assert.strictEqual(result.stderr, "", label)
          } else {
            const lines = result.stderr.split("\n").filter((line) => line.length > 0)
            assert.strictEqual(lines.length, 1, `one line: ${label}`)
            assert.match(lines[0] ?? "", /^herald: /, label)
            assert.notMatch(lines[0] ?? "", /^herald: unexpected error/, label)
          }
        })
      const { numRuns } = yield* checkProperty(argvs, run, { numRuns: 40 })
      assert.isAtLeast(numRuns, 1)
    }), 240_000)
})
