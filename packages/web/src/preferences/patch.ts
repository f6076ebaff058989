/**
 * From what the preferences form shows to the `UserPreferencesPatch` to send:
 * every field is decoded with the domain's schema (so an error names the
 * field it belongs to), and only what differs from the server's current
 * answer goes into the patch, because Herald stores only what a user
 * changed and lets the rest follow the defaults.
 */
import {
  DigestSchedule,
  EmailRoute,
  type KindPreferencesPatch,
  kinds,
  LocalTime,
  type NotificationKind,
  type Preferences,
  TimeZone,
  type UserPreferencesPatch,
  Weekday
} from "@herald/domain"
import { Exit, Schema } from "effect"

/** What the form holds, as the controls give it. */
export interface FormValues {
  readonly kinds: Readonly<Record<NotificationKind, { readonly inApp: boolean; readonly push: boolean; readonly email: string }>>
  readonly schedule: string
  readonly at: string
  readonly weekday: string
  readonly timeZone: string
  readonly includeRead: boolean
}

/** The fields an error can be shown next to. */
export type FieldName = "kinds" | "schedule" | "at" | "weekday" | "timeZone"
export type FieldErrors = Partial<Record<FieldName, string>>

type PatchInput = typeof UserPreferencesPatch.Encoded
type KindPatchInput = typeof KindPreferencesPatch.Encoded

export type PatchResult =
  | { readonly _tag: "patch"; readonly patch: PatchInput; readonly empty: boolean }
  | { readonly _tag: "invalid"; readonly errors: FieldErrors }

const ScheduleTag = Schema.Literals(["hourly", "daily", "weekly"])

const messages: Readonly<Record<FieldName, string>> = {
  kinds: "Choose off, immediate or digest for email.",
  schedule: "Choose every hour, every day or every week.",
  at: "Enter a time as HH:MM, from 00:00 to 23:59.",
  weekday: "Choose a day of the week.",
  timeZone: "Choose a time zone from the list, such as Europe/London."
}

const scheduleKey = (schedule: typeof DigestSchedule.Type): string =>
  schedule._tag === "hourly" ? "hourly" : schedule._tag === "daily" ? `daily ${schedule.at}` : `weekly ${schedule.weekday} ${schedule.at}`

/** The patch that turns `current` into what the form shows, or the errors of the fields that do not decode. */
export const toPatch = (values: FormValues, current: Preferences): PatchResult => {
  const errors: FieldErrors = {}
  const decode = <S extends Schema.Top & { readonly DecodingServices: never }>(name: FieldName, schema: S, value: unknown) => {
    const exit = Schema.decodeUnknownExit(schema)(value)
    if (Exit.isSuccess(exit)) return exit.value
    errors[name] = messages[name]
    return undefined
  }

  const kindsPatch: { -readonly [K in NotificationKind]?: KindPatchInput } = {}
  for (const kind of kinds) {
    const shown = values.kinds[kind]
    const was = current.kinds[kind]
    const email = decode("kinds", EmailRoute, shown.email)
    const change: { inApp?: boolean; push?: boolean; email?: typeof EmailRoute.Type } = {}
    if (shown.inApp !== was.inApp) change.inApp = shown.inApp
    if (shown.push !== was.push) change.push = shown.push
    if (email !== undefined && email !== was.email) change.email = email
    if (Object.keys(change).length > 0) kindsPatch[kind] = change
  }

  const tag = decode("schedule", ScheduleTag, values.schedule)
  const at = tag === "hourly" ? undefined : decode("at", LocalTime, values.at)
  const weekday = tag === "weekly" ? decode("weekday", Weekday, values.weekday) : undefined
  const timeZone = decode("timeZone", TimeZone, values.timeZone)
  if (Object.keys(errors).length > 0) return { _tag: "invalid", errors }

  const schedule: typeof DigestSchedule.Type | undefined = tag === "hourly"
    ? { _tag: "hourly" }
    : tag === "daily" && at !== undefined
    ? { _tag: "daily", at }
    : tag === "weekly" && at !== undefined && weekday !== undefined
    ? { _tag: "weekly", weekday, at }
    : undefined

  const digest = {
    ...(schedule !== undefined && scheduleKey(schedule) !== scheduleKey(current.digest.schedule) ? { schedule } : {}),
    ...(timeZone !== undefined && timeZone !== current.digest.timeZone ? { timeZone } : {}),
    ...(values.includeRead !== current.digest.includeRead ? { includeRead: values.includeRead } : {})
  }
  const patch: PatchInput = {
    ...(Object.keys(kindsPatch).length > 0 ? { kinds: kindsPatch } : {}),
    ...(Object.keys(digest).length > 0 ? { digest } : {})
  }
  return { _tag: "patch", patch, empty: Object.keys(patch).length === 0 }
}

/** The field a server-side `InvalidRequest` path (`patch.digest.timeZone`) points at, if any. */
export const fieldOfPath = (path: string): FieldName | undefined => {
  const last = path.split(/[.[\]]+/).filter((part) => part !== "")
  const names: ReadonlyArray<FieldName> = ["timeZone", "weekday", "at", "schedule"]
  for (const part of [...last].reverse()) {
    const found = names.find((name) => name === part)
    if (found !== undefined) return found
  }
  return last.includes("kinds") ? "kinds" : undefined
}
