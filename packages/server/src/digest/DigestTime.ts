/**
 * When a digest schedule fires, as epoch milliseconds, in a user's IANA time
 * zone. Pure functions over the runtime's ICU time-zone data (`Intl`), no
 * clock and no services.
 *
 * Product rules:
 * - `daily` at `HH:MM` fires at that local wall time on every local calendar
 *   date of the zone; `weekly` fires at that wall time on the given local
 *   weekday; `hourly` fires at minute 00 of every local wall hour.
 * - Spring-forward gap (the wall time does not exist that day): `daily` and
 *   `weekly` fire at the first valid instant after the gap, i.e. the
 *   transition instant itself (America/New_York 2026-03-08 at 02:30 fires at
 *   07:00Z = 03:00 EDT). `hourly` skips a wall hour `HH:00` that does not
 *   exist (New York 2026-03-08: 01:00 EST, then 03:00 EDT; Lord Howe, whose
 *   gap is 02:00→02:30, skips 02:00), so no instant fires twice.
 * - Fall-back overlap (the wall time occurs twice): it fires once, at its
 *   first occurrence (the earlier offset). `hourly` fires a repeated `HH:00`
 *   only once, at its first occurrence.
 * - Offsets need not be whole hours: Asia/Kolkata (+05:30), Australia/Lord_Howe
 *   (+10:30/+11:00), Pacific/Chatham (+12:45/+13:45) are handled the same way.
 *
 * Preconditions (checked at the boundary by the domain `TimeZone` and
 * `LocalTime` schemas): `timeZone` satisfies {@link isValidTimeZone} (an
 * unknown zone makes `Intl` raise a RangeError), and `at` is `HH:MM` in
 * 00:00–23:59; a malformed `at` or a non-finite `afterMillis` gives `NaN`.
 *
 * Assumes at most one offset transition within a day either side of a fire
 * time, and transitions on whole seconds — true of every zone's current rules.
 */

export type Weekday = "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday"

export type DigestScheduleInput =
  | { readonly _tag: "hourly" }
  | { readonly _tag: "daily"; readonly at: string }
  | { readonly _tag: "weekly"; readonly weekday: Weekday; readonly at: string }

const SECOND = 1_000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** `Date#getUTCDay` numbering (Sunday = 0). */
const weekdayNumber: Record<Weekday, number> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6
}

const formatters = new Map<string, Intl.DateTimeFormat>()

const formatterFor = (timeZone: string): Intl.DateTimeFormat => {
  const cached = formatters.get(timeZone)
  if (cached !== undefined) return cached
  const made = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric"
  })
  formatters.set(timeZone, made)
  return made
}

/**
 * The zone's UTC offset in ms at an instant. Wall times are handled as
 * "local ms": the wall clock reading encoded as if it were UTC, so that
 * `local = instant + offsetAt(instant)`.
 */
const offsetAt = (timeZone: string, instant: number): number => {
  const f = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 }
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    switch (part.type) {
      case "year":
      case "month":
      case "day":
      case "hour":
      case "minute":
      case "second":
        f[part.type] = Number(part.value)
    }
  }
  const wholeSecond = instant - (((instant % SECOND) + SECOND) % SECOND)
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - wholeSecond
}

/** The instants at which the zone's wall clock reads `local`, earliest first: none (gap), one, or two (overlap). */
const instantsOf = (timeZone: string, local: number): ReadonlyArray<number> => {
  const offsets = new Set([offsetAt(timeZone, local - DAY), offsetAt(timeZone, local), offsetAt(timeZone, local + DAY)])
  const found: Array<number> = []
  for (const offset of offsets) {
    const instant = local - offset
    if (offsetAt(timeZone, instant) === offset && !found.includes(instant)) found.push(instant)
  }
  return found.sort((a, b) => a - b)
}

/** Resolve a gap wall time to the transition instant that skips it (binary search, whole seconds). */
const transitionAcross = (timeZone: string, local: number): number => {
  const before = offsetAt(timeZone, local - DAY)
  const after = offsetAt(timeZone, local + DAY)
  // Reading `local` with the later (larger) offset lands before the transition, with the earlier one after it.
  let lo = local - Math.max(before, after)
  let hi = local - Math.min(before, after)
  const loOffset = offsetAt(timeZone, lo)
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND
    if (offsetAt(timeZone, mid) === loOffset) lo = mid
    else hi = mid
  }
  return hi
}

/** The fire instant for a daily/weekly wall time: first occurrence, or the transition for a gap. */
const resolveWallTime = (timeZone: string, local: number): number => {
  const instants = instantsOf(timeZone, local)
  return instants[0] ?? transitionAcross(timeZone, local)
}

const parseAt = (at: string): number | undefined => {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at)
  if (match === null) return undefined
  return Number(match[1]) * HOUR + Number(match[2]) * MINUTE
}

const floorTo = (value: number, unit: number): number => value - (((value % unit) + unit) % unit)

/** The first fire instant strictly after `afterMillis` (epoch ms), for the schedule in the IANA zone. */
export const nextFire = (schedule: DigestScheduleInput, timeZone: string, afterMillis: number): number => {
  if (!Number.isFinite(afterMillis)) return Number.NaN
  const localAfter = afterMillis + offsetAt(timeZone, afterMillis)

  if (schedule._tag === "hourly") {
    // Wall hours from a little before "now"; skip those in a gap, take the first occurrence of the rest.
    const firstHour = floorTo(localAfter, HOUR) - 2 * HOUR
    for (let step = 0; step < 24 * 14; step++) {
      const first = instantsOf(timeZone, firstHour + step * HOUR)[0]
      if (first !== undefined && first > afterMillis) return first
    }
    return Number.NaN
  }

  const timeOfDay = parseAt(schedule.at)
  if (timeOfDay === undefined) return Number.NaN
  // Fire instants increase with the local date, so the first one after `afterMillis` is the answer.
  const today = floorTo(localAfter, DAY)
  for (let days = -1; days <= 8; days++) {
    const date = today + days * DAY
    if (schedule._tag === "weekly" && new Date(date).getUTCDay() !== weekdayNumber[schedule.weekday]) continue
    const fire = resolveWallTime(timeZone, date + timeOfDay)
    if (fire > afterMillis) return fire
  }
  return Number.NaN
}

/** True when the zone is a valid IANA zone known to this runtime's ICU. */
export { isValidTimeZone } from "@herald/domain"
