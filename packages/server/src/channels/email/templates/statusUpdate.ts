/**
 * Email for a `status_update`: something the user follows changed state; the
 * title says what changed and the body gives the details.
 */
import type { Notification } from "@herald/domain"
import {
  button,
  escapeHtml,
  escapeMultiline,
  htmlPage,
  oneLine,
  type RenderedEmail,
  Styles,
  type TemplateOptions,
  textPage
} from "./layout.ts"

export const renderStatusUpdate = (notification: Notification, options: TemplateOptions): RenderedEmail => {
  const who = oneLine(notification.actor ?? "")
  const title = oneLine(notification.title)
  const body = notification.body ?? ""
  const subject = `Status update: ${title}`
  const html = htmlPage(
    options,
    subject,
    `<h1 style="${Styles.heading}">Status update</h1>
<p style="${Styles.title}">${escapeHtml(title)}</p>
${who === "" ? "" : `<p style="${Styles.paragraph}">Updated by ${escapeHtml(who)}</p>`}
${body.trim() === "" ? "" : escapeMultiline(body)}
${button(options.itemUrl, "See the update")}`
  )
  const text = textPage(options, [
    "Status update",
    "",
    title,
    ...(who === "" ? [] : [`Updated by ${who}`]),
    ...(body.trim() === "" ? [] : ["", body.trim()]),
    ...(options.itemUrl === undefined ? [] : ["", `See the update: ${options.itemUrl}`])
  ])
  return { subject, html, text }
}
