/**
 * Email digests: when a user's `digest`-routed notifications go out, as one
 * email, in the user's own time zone.
 */
import { Schema } from "effect"

export const Weekday = Schema.Literals(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
export type Weekday = typeof Weekday.Type

/** A local wall time, `HH:MM` on a 24-hour clock. */
export const LocalTime = Schema.String.pipe(
  Schema.check(Schema.isPattern(/^([01]\d|2[0-3]):[0-5]\d$/, { description: "a time as HH:MM (00:00 to 23:59)" }))
)

/**
 * `hourly` (at minute 00 of every local hour), `daily` at a local time, or
 * `weekly` on a weekday at a local time.
 *
 * @example
 * ```ts
 * const schedule: DigestSchedule = { _tag: "weekly", weekday: "monday", at: "08:30" }
 * ```
 */
export const DigestSchedule = Schema.Union([
  Schema.TaggedStruct("hourly", {}),
  Schema.TaggedStruct("daily", { at: LocalTime }),
  Schema.TaggedStruct("weekly", { weekday: Weekday, at: LocalTime })
])
export type DigestSchedule = typeof DigestSchedule.Type

/** True for an IANA zone this runtime knows; UTC offsets such as "+05:30", which `Intl` also takes, are refused. */
export const isValidTimeZone = (zone: string): boolean => {
  if (zone.trim() === "") return false
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone
    return !resolved.startsWith("+") && !resolved.startsWith("-")
  } catch {
    return false
  }
}

/** An IANA time zone such as `Europe/London` or `Asia/Kolkata`. */
export const TimeZone = Schema.String.pipe(
  Schema.check(Schema.makeFilter(isValidTimeZone, { description: "an IANA time zone such as Europe/London" }))
)

export class DigestSettings extends Schema.Class<DigestSettings>("@herald/domain/DigestSettings")({
  schedule: DigestSchedule,
  timeZone: TimeZone,
  /** Keep items the user already read in the app (left out by default). */
  includeRead: Schema.Boolean
}) {}

/** Daily at 09:00; in UTC until the app tells Herald the user's zone. */
export const defaultDigestSettings = new DigestSettings({
  schedule: { _tag: "daily", at: "09:00" },
  timeZone: "UTC",
  includeRead: false
})

export const DigestSettingsPatch = Schema.Struct({
  schedule: Schema.optionalKey(DigestSchedule),
  timeZone: Schema.optionalKey(TimeZone),
  includeRead: Schema.optionalKey(Schema.Boolean)
})
export type DigestSettingsPatch = typeof DigestSettingsPatch.Type
