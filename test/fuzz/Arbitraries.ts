/**
 * Values the fuzz properties share: the awkward numbers, strings and JSON
 * fragments that break parsers and validators (NaN, 1e999, 2^53 + 1, -0,
 * lone surrogates, wrong types), as raw JSON text so that values
 * `JSON.stringify` cannot produce (NaN, Infinity, leading zeros) reach the
 * server too.
 */
import fc from "fast-check"

/** JSON (or almost JSON) text of one value that a schema expecting a cursor, a string or a flag should refuse or survive. */
export const rawValueText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "-1",
    "-0",
    "0.5",
    "1.5",
    "1e-7",
    "9007199254740991",
    "9007199254740992",
    "9007199254740993",
    "18446744073709551616",
    "1e20",
    "00",
    "0x10",
    "\"7\"",
    "\"\"",
    "null",
    "true",
    "[]",
    "{}",
    "[1]",
    "{\"$gt\":0}",
    "\"\\ud800\"",
    "\"\\u0000\""
  ),
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: "binary", maxLength: 24 }).map((text) => JSON.stringify(text)),
  fc.integer().map(String),
  fc.double().map(String)
)

/** Any JSON value, small. */
export const smallJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 })

/** Any string: full Unicode including lone surrogates, control characters and the empty string. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ maxLength: 80 }),
  // The characters storage and encoders trip on, often: NUL, lone surrogates, a newline, astral and combining ones.
  fc.string({ unit: fc.constantFrom("\u0000", "\ud800", "\udfff", "\n", "a", "é", "e\u0301", "😀", "\u2028"), minLength: 1, maxLength: 8 })
)

/** Text that looks like a JWT (three base64url parts) without being one. */
export const jwtLike: fc.Arbitrary<string> = fc
  .tuple(fc.base64String({ maxLength: 60 }), fc.base64String({ maxLength: 120 }), fc.base64String({ maxLength: 60 }))
  .map((parts) => parts.map((part) => part.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")).join("."))
