/**
 * How commands print: one line at a time, written straight to the process's
 * stdout or stderr and awaited, so each line leaves the process the moment it
 * is printed (nothing is held in a buffer; `herald tail` relies on this).
 *
 * With `--json`, stdout carries exactly one JSON object per line and nothing
 * else; anything meant for people (progress, hints) goes to stderr.
 */
import { Effect } from "effect"
import { OutputClosed } from "./CliErrors.ts"
import { herald } from "./Root.ts"

const write = (stream: NodeJS.WriteStream, text: string): Effect.Effect<void, OutputClosed> =>
  Effect.callback<void, OutputClosed>((resume) => {
    stream.write(text, (error) => {
      resume(error ? Effect.fail(new OutputClosed({ message: error.message })) : Effect.void)
    })
  })

/** Writes one line to stdout. */
export const stdoutLine = (line: string): Effect.Effect<void, OutputClosed> => write(process.stdout, `${line}\n`)

/** Writes one line to stderr. */
export const stderrLine = (line: string): Effect.Effect<void, OutputClosed> => write(process.stderr, `${line}\n`)

/**
 * Prints a command's result: `value` as one JSON line under `--json`,
 * otherwise the human-readable `text` (one line, or several).
 */
export const printResult = Effect.fnUntraced(function*(value: object, text: string | ReadonlyArray<string>) {
  const { json } = yield* herald
  if (json) return yield* stdoutLine(JSON.stringify(value))
  for (const line of typeof text === "string" ? [text] : text) yield* stdoutLine(line)
})

/**
 * Prints a list: under `--json` one JSON line per item (no line at all for
 * none, so `| wc -l` counts them), otherwise the lines `table` makes of the
 * items, or the one line `empty` when there are none.
 */
export const printRows = Effect.fnUntraced(function*<A>(
  items: ReadonlyArray<A>,
  toJson: (item: A) => object,
  table: (items: ReadonlyArray<A>) => ReadonlyArray<string>,
  empty: string
) {
  const { json } = yield* herald
  if (json) {
    for (const item of items) yield* stdoutLine(JSON.stringify(toJson(item)))
    return
  }
  for (const line of items.length === 0 ? [empty] : table(items)) yield* stdoutLine(line)
})

/** Prints a note for people: on stderr, so that `--json` stdout stays pure. */
export const note = (text: string): Effect.Effect<void, OutputClosed> => stderrLine(text)
