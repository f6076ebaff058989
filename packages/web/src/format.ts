/**
 * How the pages write times, kinds and measures for people. Everything uses
 * the browser's locale through `Intl`, so nothing here needs a library.
 */
import { decimals, measureText as formatMeasure, type NotificationKind } from "@herald/domain"
import { DateTime } from "effect"

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "long" })
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" })
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" })

const steps: ReadonlyArray<readonly [Intl.RelativeTimeFormatUnit, number]> = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 7],
  ["week", 4.35],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY]
]

/** "just now", "5 minutes ago", "yesterday": how long before `now` the instant was. */
export const relativeTime = (at: DateTime.Utc, now: number = Date.now()): string => {
  let amount = (DateTime.toEpochMillis(at) - now) / 1000
  if (Math.abs(amount) < 10) return "just now"
  for (const [unit, size] of steps) {
    if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit)
    amount /= size
  }
  return relative.format(Math.round(amount), "year")
}

/** "1 Dec 2026, 09:30" in the browser's zone. */
export const dateTime = (at: DateTime.Utc): string => absolute.format(DateTime.toEpochMillis(at))

/** "09:30": a chart axis label. */
export const clockTime = (at: DateTime.Utc): string => clock.format(DateTime.toEpochMillis(at))

/** The machine-readable `datetime` attribute of a `<time>`. */
export const isoTime = (at: DateTime.Utc): string => DateTime.formatIso(at)

export const kindLabels: Readonly<Record<NotificationKind, string>> = {
  mention: "Mention",
  assignment: "Assignment",
  status_update: "Status update"
}


/** `25 %`, `12.5 %`: a rollout percentage (the server keeps two decimals). */
export const percentageText = (percentage: number): string => `${decimals(percentage, 2)} %`

/** A guard criterion's value or threshold in its unit: ratios as percentages, milliseconds as `120 ms`. */
export const measureText = (value: number, unit: string): string => formatMeasure(value, unit, " %")

/** `120 ms`, `1.5 s`, or an en dash for a percentile without samples. */
export const millisText = (ms: number | null): string =>
  ms === null ? "–" : ms >= 1000 ? `${decimals(ms / 1000, 2)} s` : `${decimals(ms, 1)} ms`

/** `5 min`, `1 h`, `90 s`: the guard's sliding window. */
export const windowText = (seconds: number): string =>
  seconds > 0 && seconds % 3600 === 0
    ? `${seconds / 3600} h`
    : seconds > 0 && seconds % 60 === 0
    ? `${seconds / 60} min`
    : `${seconds} s`

/** `abcd…wxyz`: enough of a device token to tell two apart, without showing a secret-looking blob. */
export const shortToken = (token: string): string => token.length <= 14 ? token : `${token.slice(0, 6)}…${token.slice(-6)}`
