/**
 * Email for an `assignment`: the user was given something to do; the body
 * is the item's description.
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

export const renderAssignment = (notification: Notification, options: TemplateOptions): RenderedEmail => {
  const who = oneLine(notification.actor ?? "")
  const title = oneLine(notification.title)
  const body = notification.body ?? ""
  const intro = who === "" ? "You were assigned" : `${who} assigned you`
  const subject = `${intro}: ${title}`
  const html = htmlPage(
    options,
    subject,
    `<h1 style="${Styles.heading}">${escapeHtml(intro)}</h1>
<p style="${Styles.title}">${escapeHtml(title)}</p>
${body.trim() === "" ? "" : escapeMultiline(body)}
${button(options.itemUrl, "Open the assignment")}`
  )
  const text = textPage(options, [
    intro,
    "",
    title,
    ...(body.trim() === "" ? [] : ["", body.trim()]),
    ...(options.itemUrl === undefined ? [] : ["", `Open the assignment: ${options.itemUrl}`])
  ])
  return { subject, html, text }
}
