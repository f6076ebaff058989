/**
 * How notifications, preferences, devices, dead letters and digests look on
 * the command line: the JSON line shapes and the human-readable lines and
 * tables.
 */
import type {
  AdminRpcs,
  Device,
  DigestSchedule,
  DigestSettings,
  KindPreferences,
  Notification,
  NotificationKind,
  Preferences
} from "@herald/domain"
import { DateTime } from "effect"

/** One notification as a `--json` line of `herald tail`. */
export const notificationJson = (n: Notification) => ({
  id: n.id,
  cursor: n.cursor,
  kind: n.kind,
  title: n.title,
  body: n.body,
  link: n.link,
  actor: n.actor,
  createdAt: DateTime.formatIso(n.createdAt)
})

/** One notification as a `--json` line of `herald inbox`: the `tail` shape plus when it was read. */
export const inboxJson = (n: Notification) => ({
  ...notificationJson(n),
  readAt: n.readAt === null ? null : DateTime.formatIso(n.readAt)
})

// "sv-SE" formats as ISO-like `2026-11-24 08:00:00`, in the local time zone.
const localTime = (dt: DateTime.DateTime) =>
  DateTime.formatLocal(dt, { locale: "sv-SE", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false })

/** `2026-11-24 08:00:00` in the local time zone. */
export const localDateTime = (dt: DateTime.DateTime) =>
  DateTime.formatLocal(dt, { locale: "sv-SE", dateStyle: "short", timeStyle: "medium" })

const KindWidth = "status_update".length

/** `08:00:00  mention        Bob mentioned you`: time (local), kind, title. */
export const notificationLine = (n: Notification): string =>
  `${localTime(n.createdAt)}  ${n.kind.padEnd(KindWidth)}  ${oneLine(n.title)}`

/** A table of notifications with a header row, columns aligned. */
export const inboxTable = (items: ReadonlyArray<Notification>): ReadonlyArray<string> =>
  table(
    ["CURSOR", "CREATED", "KIND", "READ", "TITLE", "ID"],
    items.map((n) => [
      String(n.cursor),
      localDateTime(n.createdAt),
      n.kind,
      n.readAt === null ? "unread" : "read",
      truncate(oneLine(n.title), 60),
      n.id
    ])
  )

const kindJson = (k: KindPreferences) => ({ inApp: k.inApp, push: k.push, email: k.email })

const scheduleJson = (s: DigestSchedule) => {
  switch (s._tag) {
    case "hourly":
      return { _tag: s._tag }
    case "daily":
      return { _tag: s._tag, at: s.at }
    case "weekly":
      return { _tag: s._tag, weekday: s.weekday, at: s.at }
  }
}

/** Digest settings in JSON: the same shape `prefs set` sends (`schedule` tagged like `DigestSchedule`). */
export const digestSettingsJson = (d: DigestSettings) => ({
  schedule: scheduleJson(d.schedule),
  timeZone: d.timeZone,
  includeRead: d.includeRead
})

/** A user's preferences as the `--json` line of `herald prefs get` and `herald prefs set`. */
export const preferencesJson = (p: Preferences) => ({
  userId: p.userId,
  existingBeforeRollout: p.existingBeforeRollout,
  emailAddress: p.emailAddress,
  kinds: {
    mention: kindJson(p.kinds.mention),
    assignment: kindJson(p.kinds.assignment),
    status_update: kindJson(p.kinds.status_update)
  },
  digest: digestSettingsJson(p.digest)
})

const onOff = (value: boolean) => value ? "on" : "off"

const scheduleText = (s: DigestSchedule) => {
  switch (s._tag) {
    case "hourly":
      return "hourly on the hour"
    case "daily":
      return `daily at ${s.at}`
    case "weekly":
      return `weekly on ${s.weekday} at ${s.at}`
  }
}

/** `daily at 09:00 Europe/London, read items left out`: when the digest goes out and what it keeps. */
export const digestSettingsText = (d: DigestSettings): string =>
  `${scheduleText(d.schedule)} ${d.timeZone}, read items ${d.includeRead ? "included" : "left out"}`

/**
 * A user's preferences for people: a table of kinds and channels, then the
 * email address, the rollout flag and the digest settings.
 */
export const preferencesLines = (p: Preferences): ReadonlyArray<string> => [
  ...table(
    ["KIND", "IN-APP", "PUSH", "EMAIL"],
    (["mention", "assignment", "status_update"] as const).map((kind) => {
      const k = p.kinds[kind]
      return [kind, onOff(k.inApp), onOff(k.push), k.email]
    })
  ),
  `email address: ${p.emailAddress ?? "(not set; email routes send nothing)"}`,
  `existing before rollout: ${p.existingBeforeRollout ? "yes" : "no"}`,
  `digest: ${digestSettingsText(p.digest)}`
]

/** A digest preview as the `--json` line of `herald digest preview`; items as in `herald inbox --json`, in server order. */
export const digestPreviewJson = (d: AdminRpcs.DigestPreview) => ({
  userId: d.userId,
  emailAddress: d.emailAddress,
  dueAt: d.dueAt === null ? null : DateTime.formatIso(d.dueAt),
  items: d.items.map(inboxJson)
})

const kindOrder: ReadonlyArray<NotificationKind> = ["mention", "assignment", "status_update"]

/**
 * A digest preview for people: who it goes to and when, then its items
 * grouped by kind (mention, assignment, status_update), each group newest
 * first under a line with its count; or one line saying nothing is waiting.
 */
export const digestPreviewLines = (d: AdminRpcs.DigestPreview): ReadonlyArray<string> => {
  if (d.items.length === 0) return [`nothing waiting for ${d.userId}'s digest`]
  const to = d.emailAddress === null ? "no email address set: nothing will be sent" : `to ${d.emailAddress}`
  const due = d.dueAt === null ? "not scheduled" : `due ${localDateTime(d.dueAt)}`
  const lines = [`digest for ${d.userId} (${to}), ${due}`]
  for (const kind of kindOrder) {
    const items = d.items.filter((n) => n.kind === kind).sort((a, b) => b.cursor - a.cursor)
    if (items.length === 0) continue
    lines.push(`${kind} (${items.length})`)
    for (const n of items) {
      lines.push(`  ${localDateTime(n.createdAt)}  ${n.readAt === null ? "unread" : "read  "}  ${oneLine(n.title)}`)
    }
  }
  return lines
}

/** `3 items`, `1 item`. */
export const itemCount = (n: number): string => `${n} item${n === 1 ? "" : "s"}`

/** A device as a `--json` line of `herald devices add` and `herald devices list`. */
export const deviceJson = (d: Device) => ({
  userId: d.userId,
  token: d.token,
  platform: d.platform,
  createdAt: DateTime.formatIso(d.createdAt)
})

/** A table of devices with a header row; long tokens are shortened to their start and end. */
export const devicesTable = (devices: ReadonlyArray<Device>): ReadonlyArray<string> =>
  table(
    ["PLATFORM", "REGISTERED", "TOKEN"],
    devices.map((d) => [d.platform, localDateTime(d.createdAt), shortToken(d.token)])
  )

/** A dead letter as a `--json` line of `herald deadletters list`: every field, times as ISO strings. */
export const deadLetterJson = (d: AdminRpcs.DeadLetter) => ({
  deliveryId: d.deliveryId,
  notificationId: d.notificationId,
  userId: d.userId,
  kind: d.kind,
  title: d.title,
  channel: d.channel,
  target: d.target,
  attempts: d.attempts,
  lastError: d.lastError,
  createdAt: DateTime.formatIso(d.createdAt),
  deadAt: DateTime.formatIso(d.deadAt)
})

/** A table of dead letters with a header row; long targets (device tokens) are shortened, long errors and titles cut. */
export const deadLettersTable = (items: ReadonlyArray<AdminRpcs.DeadLetter>): ReadonlyArray<string> =>
  table(
    ["DEAD AT", "USER", "CHANNEL", "TARGET", "ATTEMPTS", "LAST ERROR", "TITLE"],
    items.map((d) => [
      localDateTime(d.deadAt),
      d.userId,
      d.channel,
      shortToken(d.target),
      String(d.attempts),
      d.lastError === null ? "-" : truncate(oneLine(d.lastError), 60),
      truncate(oneLine(d.title), 60)
    ])
  )

/**
 * `abcdefghijklmnopqrstuvwx…12345678` for tokens (or other targets) longer
 * than 40 characters (FCM tokens run to ~160).
 */
export const shortToken = (token: string): string =>
  token.length <= 40 ? token : `${token.slice(0, 24)}…${token.slice(-8)}`

/** Rows under a header, columns aligned with two spaces between them. */
export const table = (header: ReadonlyArray<string>, body: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const rows = [header, ...body]
  const widths = header.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd())
}

/** The text on one line: line breaks (and the spaces around them) become one space. */
export const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, " ")

/** The text cut to `max` characters, the last one an ellipsis when cut. */
export const truncate = (text: string, max: number) => text.length <= max ? text : `${text.slice(0, max - 1)}…`
