/**
 * The child's end of a load generator's IPC channel: messages from the
 * benchmark decoded with `schema`, handled one at a time in arrival order,
 * and `send` for the answers. A message that does not decode, or a handler
 * that fails, ends the process with a message on stderr (the benchmark sees
 * it exit).
 */
import { Schema } from "effect"

export const send = (message: unknown): void => {
  process.send?.(message)
}

export const serve = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  handle: (message: S["Type"]) => Promise<void> | void
): void => {
  if (process.send === undefined) {
    process.stderr.write("this is a load generator: the comparison benchmark (test/bench/compare.ts) forks it\n")
    process.exit(2)
  }
  const decode = Schema.decodeUnknownSync(schema)
  let queue = Promise.resolve()
  process.on("message", (raw: unknown) => {
    queue = queue.then(() => handle(decode(raw))).catch((error: unknown) => {
      process.stderr.write(`load generator failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
      process.exit(1)
    })
  })
  // The benchmark went away: nothing left to do.
  process.on("disconnect", () => process.exit(0))
}
