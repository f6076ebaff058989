/**
 * The errors the CLI raises itself, on top of the client's (`Unauthorized`,
 * `InvalidRequest`, `StorageUnavailable`, `ServerUnreachable`).
 */
import { Schema } from "effect"

/**
 * The invocation cannot work as given (for example no API key can be found);
 * the process exits with 2, like a command-line parse error.
 */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String
}) {}

/** Writing to stdout or stderr failed, typically because the reader went away (`herald tail | head -3`). */
export class OutputClosed extends Schema.TaggedError<OutputClosed>()("OutputClosed", {
  message: Schema.String
}) {}
