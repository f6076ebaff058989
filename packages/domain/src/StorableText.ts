/**
 * Text that PostgreSQL can store as given. It refuses NUL in `text`, and a
 * lone UTF-16 surrogate is silently replaced by U+FFFD, so an idempotency
 * key containing one would never match itself again and every retry would
 * be a new notification. Both are refused at the boundary instead, naming
 * the field, like any other invalid input.
 */
import { Schema } from "effect"

const LoneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export const isStorableText = Schema.makeFilter(
  (text: string) =>
    (!text.includes("\u0000") && !LoneSurrogate.test(text)) ||
    "must be well-formed Unicode text without NUL characters",
  { description: "well-formed Unicode text without NUL characters" }
)
