/**
 * The `herald` command tree as effect/cli holds it, for tests that must cover
 * every command, including the ones added after the test was written: each
 * command's path, found by walking the `Command` values' subcommands, and the
 * help document effect/cli builds for it (flags, inherited flags, arguments,
 * subcommands, examples), which is what the parser accepts too.
 *
 * Also a reader of rendered help text, split into its sections, so a test can
 * check what users see against that document.
 */
import { cli, Version } from "@herald/cli/src/Cli.ts"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Layer } from "effect"
import { CliOutput, Command, type HelpDoc } from "effect/cli"

export interface CommandNode {
  /** From the root: `["herald", "prefs", "set"]`. */
  readonly path: ReadonlyArray<string>
  readonly command: Command.Command.Any
}

/** Every command under `root` and `root` itself, parents before their subcommands. */
export const commandTree = (root: Command.Command.Any = cli): ReadonlyArray<CommandNode> => {
  const visit = (command: Command.Command.Any, parent: ReadonlyArray<string>): ReadonlyArray<CommandNode> => {
    const path = [...parent, command.name]
    const children = command.subcommands.flatMap((group) => group.commands)
    return [{ path, command }, ...children.flatMap((child) => visit(child, path))]
  }
  return visit(root, [])
}

/** The subcommands of a command, over all of its groups. */
export const subcommandsOf = (command: Command.Command.Any): ReadonlyArray<Command.Command.Any> =>
  command.subcommands.flatMap((group) => group.commands)

/**
 * The help document of the command at `path`, as `herald … --help` presents
 * it: run in-process with a presenter that keeps the document instead of
 * printing it. Handlers never run (`--help` stops before them).
 */
export const helpDocOf = (path: ReadonlyArray<string>): Effect.Effect<HelpDoc.HelpDoc> =>
  Effect.gen(function*() {
    const docs: Array<HelpDoc.HelpDoc> = []
    const keep: CliOutput.Presenter = {
      present: (event) => Effect.sync(() => void (event._tag === "Help" && docs.push(event.helpDoc)))
    }
    yield* Command.runWith(cli, { version: Version })([...path.slice(1), "--help"]).pipe(
      Effect.provide(Layer.merge(CliOutput.layerPresenter(keep), NodeServices.layer))
    )
    const [doc] = docs
    if (doc === undefined) return yield* Effect.die(`no help presented for ${path.join(" ")}`)
    return doc
  }).pipe(Effect.orDie)

/**
 * Rendered help split into sections by their headings (`DESCRIPTION`,
 * `FLAGS`, …), each the indented lines under it without the indentation.
 */
export const helpSections = (text: string): ReadonlyMap<string, ReadonlyArray<string>> => {
  const sections = new Map<string, Array<string>>()
  let current: Array<string> | undefined
  for (const line of text.split("\n")) {
    if (/^[A-Z][A-Z ]*$/.test(line)) {
      current = []
      sections.set(line, current)
    } else if (current !== undefined && line.trim() !== "") {
      current.push(line.trim())
    }
  }
  return sections
}

export interface HelpRow {
  /** The names in the first column: `["--help", "-h"]`, `["--user"]`, `["send"]`. */
  readonly names: ReadonlyArray<string>
  /** The second column. */
  readonly description: string
}

/** A row of a FLAGS, ARGUMENTS or SUBCOMMANDS section: its names, two or more spaces, its description. */
export const helpRow = (line: string): HelpRow => {
  const [first = "", ...rest] = line.split(/\s{2,}/)
  return {
    names: first.split(", ").map((name) => name.split(" ")[0] ?? ""),
    description: rest.join(" ").trim()
  }
}

/** Text with every run of whitespace made one space, to compare text that may be wrapped differently. */
export const squash = (text: string): string => text.replace(/\s+/g, " ").trim()
