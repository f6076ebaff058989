/**
 * The filters `herald deadletters` and `herald replay` share: `--user`,
 * `--kind`, `--since` and `--until` (when the notification was published).
 *
 * A time is an ISO 8601 instant (`2026-11-30T10:00:00Z`) or a span back from
 * now (`90s`, `30m`, `2h`, `7d`), which is what a maintainer types in the
 * middle of an incident. Spans are turned into instants when the command runs.
 */
import { NotificationKind } from "@herald/domain"
import { Option, Schema } from "effect"
import { Flag } from "effect/cli"
import { user } from "./SharedFlags.ts"

const SpanPattern = /^(\d{1,6})(s|m|h|d)$/
const UnitMillis = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

// An instant with a date and a time, and a zone so that it means one instant everywhere.
const InstantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** A time as typed: an ISO 8601 instant with its zone, or a span back from now. */
export const TimeInput = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((text: string) =>
      SpanPattern.test(text) || (InstantPattern.test(text) && !Number.isNaN(Date.parse(text))), {
      message: "Expected an ISO 8601 instant such as 2026-11-30T10:00:00Z, or a span back from now such as 30m, 2h or 7d"
    })
  )
)

/** The instant a time names, as ISO 8601; a span counts back from `nowMillis`. */
export const resolveTime = (text: string, nowMillis: number): string => {
  const span = SpanPattern.exec(text)
  if (span === null) return new Date(Date.parse(text)).toISOString()
  const unit = span[2] === "s" || span[2] === "m" || span[2] === "h" || span[2] === "d" ? span[2] : "s"
  return new Date(nowMillis - Number(span[1]) * UnitMillis[unit]).toISOString()
}

const timeFlag = (name: string, description: string) =>
  Flag.String(name).pipe(
    Flag.withSchema(TimeInput),
    Flag.withMetavar("TIME"),
    Flag.withDescription(description),
    Flag.optional
  )

/** `--user`, `--kind`, `--since`, `--until`, described for `what` ("dead letters", "deliveries"). */
export const filterFlags = (what: string) => ({
  user: user(`Only the ${what} of this user`).pipe(Flag.optional),
  kind: Flag.Literals("kind", NotificationKind.literals).pipe(
    Flag.withMetavar("KIND"),
    Flag.withDescription(`Only the ${what} of notifications of this kind (${NotificationKind.literals.join(", ")})`),
    Flag.optional
  ),
  since: timeFlag(
    "since",
    `Only ${what} of notifications published at or after TIME: an ISO 8601 instant (2026-11-30T10:00:00Z) or a span back from now (30m, 2h, 7d)`
  ),
  until: timeFlag("until", `Only ${what} of notifications published before TIME (same forms as --since)`)
})

export interface FilterValues {
  readonly user: Option.Option<string>
  readonly kind: Option.Option<NotificationKind>
  readonly since: Option.Option<string>
  readonly until: Option.Option<string>
}

/** The filters as the admin client takes them, times resolved against `nowMillis`. */
export const filterInput = (flags: FilterValues, nowMillis: number) => ({
  ...(Option.isSome(flags.user) ? { userId: flags.user.value } : {}),
  ...(Option.isSome(flags.kind) ? { kind: flags.kind.value } : {}),
  ...(Option.isSome(flags.since) ? { since: resolveTime(flags.since.value, nowMillis) } : {}),
  ...(Option.isSome(flags.until) ? { until: resolveTime(flags.until.value, nowMillis) } : {})
})
