/**
 * The flag handling the benchmarks share: node's strict `parseArgs`, a
 * leading `--` skipped (`pnpm bench:persist -- --quick` passes it on), a bad
 * flag reported with the usage and exit 2, `--help` printing the usage and
 * exiting 0.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util"

export const benchFlags = <const O extends ParseArgsOptionsConfig>(usage: string, options: O) => {
  const bad = (problem: string): never => {
    process.stderr.write(`${problem}\n\n${usage}`)
    process.exit(2)
  }
  const parse = (args: Array<string>) => parseArgs({ args, options, strict: true, allowPositionals: false }).values
  const argv = process.argv.slice(2)
  const values = ((): ReturnType<typeof parse> => {
    try {
      return parse(argv[0] === "--" ? argv.slice(1) : argv)
    } catch (error) {
      return bad(error instanceof Error ? error.message : String(error))
    }
  })()
  if ("help" in values && values.help === true) {
    process.stdout.write(usage)
    process.exit(0)
  }
  return { values, bad }
}
