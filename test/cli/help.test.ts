/**
 * `herald … --help` for every command in the tree, found from the `Command`
 * values (so commands added later are covered without touching this file):
 * each exits 0, describes the command, lists every flag and argument it
 * accepts with a description, lists its subcommands and shows an example of
 * itself. What it "accepts" is effect/cli's own help document of the command,
 * built in-process from the same flags the parser uses; what users see is the
 * help a child process prints.
 */
import { assert, it, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { commandTree, helpDocOf, helpRow, helpSections, squash, subcommandsOf } from "../support/CommandTree.ts"
import { type CliRun, runCli } from "../support/HeraldCli.ts"

const tree = commandTree()

/** The flags every command takes, from Root.ts. */
const sharedFlags = ["--url", "--api-key", "--admin-key", "--json"]

/** effect/cli appends the choices of a choice flag to its description; they do not describe it. */
const withoutChoices = (description: string) => description.replace(/\s*\(choices: [^)]*\)$/, "").trim()

// One child process per command, started together once, instead of one after the other per test.
class HelpRuns extends Context.Service<HelpRuns, ReadonlyMap<string, CliRun>>()("@herald/test/cli/HelpRuns") {
  static readonly layer = Layer.effect(
    HelpRuns,
    Effect.forEach(
      tree,
      ({ path }) => Effect.map(runCli([...path.slice(1), "--help"]), (run) => [path.join(" "), run] as const),
      { concurrency: 8 }
    ).pipe(Effect.map((runs) => new Map(runs)))
  )
}

const helpOf = (path: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const run = (yield* HelpRuns).get(path.join(" "))
    assert.isDefined(run)
    return run
  })

// Guards the walk itself: an empty or shallow tree would make every test below pass vacuously.
it("the command tree holds the root, its commands and their subcommands", () => {
  const paths = tree.map(({ path }) => path.join(" "))
  for (const path of ["herald", "herald send", "herald prefs set", "herald rollout status"]) assert.include(paths, path)
})

layer(HelpRuns.layer, { excludeTestServices: true, timeout: "60 seconds" })("herald … --help", (it) => {
  // `herald --help` is the first of these: it lists every top-level command.
  for (const { command, path } of tree) {
    const name = path.join(" ")
    const leaf = subcommandsOf(command).length === 0

    it.effect(`${name} --help exits 0 and describes the command${leaf ? ", saying what --json prints" : ""}`, () =>
      Effect.gen(function*() {
        const run = yield* helpOf(path)
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stderr, "")
        const description = command.description ?? ""
        assert.notStrictEqual(description, "", `${name} has a description`)
        assert.include(squash((helpSections(run.stdout).get("DESCRIPTION") ?? []).join(" ")), squash(description))
        // A group prints only help; a command that prints a result must say what --json makes of it.
        if (leaf) assert.include(description, "--json", `${name}: the description says what --json prints`)
      }))

    it.effect(`${name} --help lists every flag and argument it accepts, each with a description`, () =>
      Effect.gen(function*() {
        const doc = yield* helpDocOf(path)
        const sections = helpSections((yield* helpOf(path)).stdout)
        const flagRows = [...(sections.get("FLAGS") ?? []), ...(sections.get("INHERITED FLAGS") ?? [])].map(helpRow)
        const accepted = [...doc.flags, ...(doc.inheritedFlags ?? [])].map((flag) => `--${flag.name}`)
        for (const flag of new Set([...accepted, ...sharedFlags])) {
          const row = flagRows.find((r) => r.names.includes(flag))
          assert.isDefined(row, `${name} --help lists ${flag}`)
          assert.notStrictEqual(withoutChoices(row.description), "", `${name} --help describes ${flag}`)
        }
        const argRows = (sections.get("ARGUMENTS") ?? []).map(helpRow)
        for (const arg of doc.args ?? []) {
          assert.isTrue(Option.isSome(arg.description), `${name}: argument ${arg.name} has a description`)
          assert.isDefined(argRows.find((r) => r.names.includes(arg.name)), `${name} --help lists argument ${arg.name}`)
        }
      }))

    it.effect(`${name} --help shows an example of itself`, () =>
      Effect.gen(function*() {
        const examples = helpSections((yield* helpOf(path)).stdout).get("EXAMPLES") ?? []
        const own = examples.some((line) => line === name || line.startsWith(`${name} `))
        assert.isTrue(own, `${name} --help has an example starting with "${name}"`)
        for (const example of command.examples) {
          assert.notStrictEqual(example.description ?? "", "", `${name}: the example "${example.command}" says what it does`)
        }
      }))

    if (!leaf) {
      it.effect(`${name} --help lists its subcommands`, () =>
        Effect.gen(function*() {
          const rows = (helpSections((yield* helpOf(path)).stdout).get("SUBCOMMANDS") ?? []).map(helpRow)
          for (const sub of subcommandsOf(command).filter((c) => !c.unlisted)) {
            const row = rows.find((r) => r.names.includes(sub.name))
            assert.isDefined(row, `${name} --help lists ${sub.name}`)
            assert.notStrictEqual(row.description, "", `${name} --help describes ${sub.name}`)
          }
        }))
    }
  }
})
