/**
 * How notifications look on the command line: the JSON line shapes and the
 * human-readable line and table.
 */
import type { Notification } from "@herald/domain"
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

const localDateTime = (dt: DateTime.DateTime) =>
  DateTime.formatLocal(dt, { locale: "sv-SE", dateStyle: "short", timeStyle: "medium" })

const KindWidth = "status_update".length

/** `08:00:00  mention        Bob mentioned you`: time (local), kind, title. */
export const notificationLine = (n: Notification): string =>
  `${localTime(n.createdAt)}  ${n.kind.padEnd(KindWidth)}  ${oneLine(n.title)}`

/** A table of notifications with a header row, columns aligned. */
export const inboxTable = (items: ReadonlyArray<Notification>): ReadonlyArray<string> => {
  const header = ["CURSOR", "CREATED", "KIND", "READ", "TITLE", "ID"]
  const rows = [
    header,
    ...items.map((n) => [
      String(n.cursor),
      localDateTime(n.createdAt),
      n.kind,
      n.readAt === null ? "unread" : "read",
      truncate(oneLine(n.title), 60),
      n.id
    ])
  ]
  const widths = header.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd())
}

const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, " ")

const truncate = (text: string, max: number) => text.length <= max ? text : `${text.slice(0, max - 1)}…`
