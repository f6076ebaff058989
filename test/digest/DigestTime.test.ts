/**
 * Digest fire times, checked against `@js-temporal/polyfill` as an
 * independent oracle: same product rules (gap → the transition instant,
 * overlap → the first occurrence, hourly skips a non-existent `HH:00`),
 * different implementation.
 */
import { assert, describe, it } from "@effect/vitest"
import { type DigestScheduleInput, isValidTimeZone, nextFire, type Weekday } from "@herald/server/digest/DigestTime"
import { Temporal } from "@js-temporal/polyfill"

const Zones = ["UTC", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "Europe/London", "America/New_York"]

/** Includes every 2026 gap/overlap wall time of the zones above (see the "2026 rules" test). */
const DailyTimes = ["00:00", "01:00", "01:30", "01:45", "02:00", "02:15", "02:30", "02:45", "03:00", "03:15", "03:44", "03:45", "09:00", "23:59"]

const WeeklyDays: ReadonlyArray<readonly [Weekday, string]> = [["sunday", "02:30"], ["sunday", "01:30"], ["monday", "09:00"], ["saturday", "23:59"]]

const Schedules: ReadonlyArray<DigestScheduleInput> = [
  { _tag: "hourly" },
  ...DailyTimes.map((at): DigestScheduleInput => ({ _tag: "daily", at })),
  ...WeeklyDays.map(([weekday, at]): DigestScheduleInput => ({ _tag: "weekly", weekday, at }))
]

const label = (s: DigestScheduleInput) => (s._tag === "hourly" ? "hourly" : s._tag === "daily" ? `daily ${s.at}` : `weekly ${s.weekday} ${s.at}`)

const isoWeekday: Record<Weekday, number> = { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 }

const zoned = (ms: number, zone: string) => Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(zone)

/** Where the zone's wall clock reads `pdt`: first occurrence, or undefined in a gap. */
const existing = (pdt: Temporal.PlainDateTime, zone: string): Temporal.ZonedDateTime | undefined => {
  const z = pdt.toZonedDateTime(zone, { disambiguation: "earlier" })
  return z.toPlainDateTime().equals(pdt) ? z : undefined
}

/** The oracle: the first fire strictly after `after`, computed with Temporal. */
const expectedNext = (schedule: DigestScheduleInput, zone: string, after: number): number => {
  const local = zoned(after, zone).toPlainDateTime()
  if (schedule._tag === "hourly") {
    let hour = local.round({ smallestUnit: "hour", roundingMode: "floor" }).subtract({ hours: 2 })
    for (;;) {
      const z = existing(hour, zone)
      if (z !== undefined && z.epochMilliseconds > after) return z.epochMilliseconds
      hour = hour.add({ hours: 1 })
    }
  }
  const time = Temporal.PlainTime.from(schedule.at)
  let date = local.toPlainDate().subtract({ days: 1 })
  for (;;) {
    if (schedule._tag === "daily" || date.dayOfWeek === isoWeekday[schedule.weekday]) {
      const pdt = date.toPlainDateTime(time)
      const z = existing(pdt, zone) ?? pdt.toZonedDateTime(zone, { disambiguation: "earlier" }).getTimeZoneTransition("next")
      if (z !== null && z.epochMilliseconds > after) return z.epochMilliseconds
    }
    date = date.add({ days: 1 })
  }
}

const startOf = (year: number, zone: string) => Temporal.PlainDate.from({ year, month: 1, day: 1 }).toZonedDateTime(zone).epochMilliseconds
const yearStart = (zone: string) => startOf(2026, zone)
const yearEnd = (zone: string) => startOf(2027, zone)

/** Every fire in local 2026, by walking `nextFire`. */
const walk = (schedule: DigestScheduleInput, zone: string): Array<number> => {
  const fires: Array<number> = []
  const end = yearEnd(zone)
  for (let t = nextFire(schedule, zone, yearStart(zone) - 1); t < end; t = nextFire(schedule, zone, t)) fires.push(t)
  return fires
}

const iso = (ms: number) => new Date(ms).toISOString()
const fire = (schedule: DigestScheduleInput, zone: string, after: string) => iso(nextFire(schedule, zone, Date.parse(after)))

describe("DigestTime", () => {
  it("2026 rules the gap/overlap cases below rely on", () => {
    const transitions = (zone: string) => {
      const out: Array<string> = []
      let z: Temporal.ZonedDateTime | null = Temporal.ZonedDateTime.from({ year: 2026, month: 1, day: 1, timeZone: zone })
      for (z = z.getTimeZoneTransition("next"); z !== null && z.year === 2026; z = z.getTimeZoneTransition("next")) {
        out.push(`${z.subtract({ nanoseconds: 1 }).toPlainDateTime().toPlainTime().toString({ smallestUnit: "minute", roundingMode: "ceil" })}${z.subtract({ nanoseconds: 1 }).offset}→${z.toPlainDateTime().toString()}${z.offset}`)
      }
      return out
    }
    assert.deepStrictEqual(transitions("UTC"), [])
    assert.deepStrictEqual(transitions("Asia/Kolkata"), [])
    assert.deepStrictEqual(transitions("America/New_York"), ["02:00-05:00→2026-03-08T03:00:00-04:00", "02:00-04:00→2026-11-01T01:00:00-05:00"])
    assert.deepStrictEqual(transitions("Europe/London"), ["01:00+00:00→2026-03-29T02:00:00+01:00", "02:00+01:00→2026-10-25T01:00:00+00:00"])
    assert.deepStrictEqual(transitions("Australia/Lord_Howe"), ["02:00+11:00→2026-04-05T01:30:00+10:30", "02:00+10:30→2026-10-04T02:30:00+11:00"])
    assert.deepStrictEqual(transitions("Pacific/Chatham"), ["03:45+13:45→2026-04-05T02:45:00+12:45", "02:45+12:45→2026-09-27T03:45:00+13:45"])
  })

  it("hand-checked gaps and overlaps", () => {
    const daily = (at: string): DigestScheduleInput => ({ _tag: "daily", at })
    const hourly: DigestScheduleInput = { _tag: "hourly" }
    // New York: gap 02:00→03:00 EDT on 2026-03-08, overlap 01:00–02:00 on 2026-11-01.
    assert.strictEqual(fire(daily("02:30"), "America/New_York", "2026-03-08T00:00:00Z"), "2026-03-08T07:00:00.000Z")
    assert.strictEqual(fire(daily("01:30"), "America/New_York", "2026-11-01T00:00:00Z"), "2026-11-01T05:30:00.000Z")
    assert.strictEqual(fire(daily("01:30"), "America/New_York", "2026-11-01T05:30:00Z"), "2026-11-02T06:30:00.000Z")
    assert.strictEqual(fire(hourly, "America/New_York", "2026-03-08T06:00:00Z"), "2026-03-08T07:00:00.000Z")
    assert.strictEqual(fire(hourly, "America/New_York", "2026-11-01T05:00:00Z"), "2026-11-01T07:00:00.000Z")
    // London: gap 01:00→02:00 BST on 2026-03-29, overlap 01:00–02:00 on 2026-10-25.
    assert.strictEqual(fire(daily("01:30"), "Europe/London", "2026-03-29T00:00:00Z"), "2026-03-29T01:00:00.000Z")
    assert.strictEqual(fire(daily("01:30"), "Europe/London", "2026-10-25T00:00:00Z"), "2026-10-25T00:30:00.000Z")
    // Lord Howe: gap 02:00→02:30 on 2026-10-04, overlap 01:30–02:00 on 2026-04-05; hourly skips 02:00.
    assert.strictEqual(fire(daily("02:15"), "Australia/Lord_Howe", "2026-10-03T12:00:00Z"), "2026-10-03T15:30:00.000Z")
    assert.strictEqual(fire(daily("01:45"), "Australia/Lord_Howe", "2026-04-04T12:00:00Z"), "2026-04-04T14:45:00.000Z")
    assert.strictEqual(fire(hourly, "Australia/Lord_Howe", "2026-10-03T14:30:00Z"), "2026-10-03T16:00:00.000Z")
    // Chatham: gap 02:45→03:45 on 2026-09-27, overlap 02:45–03:45 on 2026-04-05.
    assert.strictEqual(fire(daily("02:45"), "Pacific/Chatham", "2026-09-26T12:00:00Z"), "2026-09-26T14:00:00.000Z")
    assert.strictEqual(fire(daily("03:15"), "Pacific/Chatham", "2026-09-26T12:00:00Z"), "2026-09-26T14:00:00.000Z")
    assert.strictEqual(fire(daily("03:15"), "Pacific/Chatham", "2026-04-04T12:00:00Z"), "2026-04-04T13:30:00.000Z")
    assert.strictEqual(fire(hourly, "Pacific/Chatham", "2026-04-04T13:15:00Z"), "2026-04-04T15:15:00.000Z")
    // Fixed offsets.
    assert.strictEqual(fire(daily("09:00"), "Asia/Kolkata", "2026-06-01T03:30:00Z"), "2026-06-02T03:30:00.000Z")
    assert.strictEqual(fire(hourly, "Asia/Kolkata", "2026-06-01T03:29:59.999Z"), "2026-06-01T03:30:00.000Z")
    assert.strictEqual(fire({ _tag: "weekly", weekday: "monday", at: "09:00" }, "UTC", "2026-01-05T09:00:00Z"), "2026-01-12T09:00:00.000Z")
  })

  for (const zone of Zones) {
    describe(zone, () => {
      it("matches the Temporal oracle from starts stepped across 2026", () => {
        const mismatches: Array<string> = []
        const step = 7 * 60 * 60_000 + 13 * 60_000
        for (let after = yearStart(zone) - 7 * 86_400_000; after < yearEnd(zone); after += step) {
          for (const schedule of Schedules) {
            const actual = nextFire(schedule, zone, after)
            const expected = expectedNext(schedule, zone, after)
            if (actual !== expected) mismatches.push(`${label(schedule)} after ${iso(after)}: ${actual} ≠ ${iso(expected)}`)
          }
        }
        assert.deepStrictEqual(mismatches.slice(0, 10), [])
      })

      for (const schedule of Schedules) {
        it(`${label(schedule)}: walking 2026 is strictly increasing and matches the oracle at and just before each fire`, () => {
          const fires = walk(schedule, zone)
          const problems: Array<string> = []
          fires.forEach((t, i) => {
            if (i > 0 && t <= (fires[i - 1] ?? t)) problems.push(`not increasing at ${iso(t)}`)
            if (nextFire(schedule, zone, t - 1) !== t) problems.push(`1ms before ${iso(t)}`)
            // For hourly the walk itself is compared with Temporal's wall hours below (and the oracle is slow).
            if (schedule._tag !== "hourly") {
              const expected = expectedNext(schedule, zone, t)
              if (nextFire(schedule, zone, t) !== expected) problems.push(`at ${iso(t)}: expected ${iso(expected)}`)
            }
          })
          assert.deepStrictEqual(problems.slice(0, 10), [])

          const locals = fires.map((t) => zoned(t, zone).toPlainDateTime())
          if (schedule._tag === "daily") {
            assert.strictEqual(fires.length, 365)
            assert.strictEqual(new Set(locals.map((l) => l.toPlainDate().toString())).size, 365)
          } else if (schedule._tag === "weekly") {
            assert.ok(fires.length === 52 || fires.length === 53, `${fires.length} weekly fires`)
            assert.ok(locals.every((l) => l.dayOfWeek === isoWeekday[schedule.weekday]))
            assert.strictEqual(new Set(locals.map((l) => l.toPlainDate().toString())).size, fires.length)
          } else {
            // Exactly one fire per local HH:00 wall time that exists in 2026.
            const existingHours: Array<string> = []
            for (let h = Temporal.PlainDateTime.from("2026-01-01T00:00"); h.year === 2026; h = h.add({ hours: 1 })) {
              if (existing(h, zone) !== undefined) existingHours.push(h.toString())
            }
            assert.deepStrictEqual(locals.map((l) => l.toString()), existingHours)
          }
        })
      }
    })
  }

  it("isValidTimeZone", () => {
    for (const good of ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"]) {
      assert.isTrue(isValidTimeZone(good), good)
    }
    for (const bad of ["Mars/Olympus", "", " ", "Europe/Atlantis", "+05:30", "not a zone"]) {
      assert.isFalse(isValidTimeZone(bad), JSON.stringify(bad))
    }
  })
})
