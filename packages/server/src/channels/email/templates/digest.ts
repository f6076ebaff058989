/**
 * The digest email: the user's waiting notifications grouped by kind, newest
 * first, with a count per kind and a link to each item.
 */
import type { Notification, NotificationKind } from "@herald/domain"
import { escapeHtml, htmlPage, oneLine, type RenderedEmail, resolveItemUrl, Styles, textPage } from "./layout.ts"

export interface DigestOptions {
  readonly appName: string
  readonly unsubscribeUrl: string
  /** Base for item links that are paths. */
  readonly linkBaseUrl?: string | undefined
}

const headings: Record<NotificationKind, readonly [string, string]> = {
  mention: ["mention", "mentions"],
  assignment: ["assignment", "assignments"],
  status_update: ["status update", "status updates"]
}
const order: ReadonlyArray<NotificationKind> = ["mention", "assignment", "status_update"]

const plural = (n: number, kind: NotificationKind) => `${n} ${headings[kind][n === 1 ? 0 : 1]}`

/** `items` newest first; the groups keep that order. */
export const renderDigest = (items: ReadonlyArray<Notification>, options: DigestOptions): RenderedEmail => {
  const groups = order
    .map((kind) => ({ kind, items: items.filter((n) => n.kind === kind) }))
    .filter((group) => group.items.length > 0)
  const summary = groups.map((g) => plural(g.items.length, g.kind)).join(", ")
  const subject = `Your ${oneLine(options.appName)} digest: ${summary}`
  const link = (n: Notification) => resolveItemUrl(n.link, options.linkBaseUrl)
  const html = htmlPage(
    { appName: options.appName, unsubscribeUrl: options.unsubscribeUrl },
    subject,
    `<h1 style="${Styles.heading}">${escapeHtml(summary)}</h1>
${
      groups.map((g) =>
        `<h2 style="${Styles.title}">${escapeHtml(plural(g.items.length, g.kind))}</h2>
<ul>
${
          g.items.map((n) => {
            const url = link(n)
            const title = escapeHtml(oneLine(n.title))
            const actor = n.actor === null ? "" : ` <span style="color:#59636e;">by ${escapeHtml(oneLine(n.actor))}</span>`
            return `<li>${url === undefined ? title : `<a href="${escapeHtml(url)}">${title}</a>`}${actor}</li>`
          }).join("\n")
        }
</ul>`
      ).join("\n")
    }`
  )
  const text = textPage(
    { appName: options.appName, unsubscribeUrl: options.unsubscribeUrl },
    [
      summary,
      ...groups.flatMap((g) => [
        "",
        plural(g.items.length, g.kind),
        ...g.items.map((n) => {
          const url = link(n)
          return `- ${oneLine(n.title)}${n.actor === null ? "" : ` (by ${oneLine(n.actor)})`}${url === undefined ? "" : `: ${url}`}`
        })
      ])
    ]
  )
  return { subject, html, text }
}
