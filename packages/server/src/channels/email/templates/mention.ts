/**
 * Email for a `mention`: somebody @-mentioned the user; the body is the
 * message they were mentioned in, quoted.
 */
import type { Notification } from "@herald/domain"
import {
  button,
  escapeHtml,
  escapeMultiline,
  htmlPage,
  oneLine,
  quoteText,
  type RenderedEmail,
  Styles,
  type TemplateOptions,
  textPage
} from "./layout.ts"

export const renderMention = (notification: Notification, options: TemplateOptions): RenderedEmail => {
  const who = oneLine(notification.actor ?? "") || "Someone"
  const title = oneLine(notification.title)
  const body = notification.body ?? ""
  const subject = `${who} mentioned you: ${title}`
  const html = htmlPage(
    options,
    subject,
    `<h1 style="${Styles.heading}">${escapeHtml(who)} mentioned you</h1>
<p style="${Styles.title}">${escapeHtml(title)}</p>
${body.trim() === "" ? "" : `<blockquote style="${Styles.quote}">${escapeMultiline(body)}</blockquote>`}
${button(options.itemUrl, "View the mention")}`
  )
  const text = textPage(options, [
    `${who} mentioned you`,
    "",
    title,
    ...(body.trim() === "" ? [] : ["", ...quoteText(body)]),
    ...(options.itemUrl === undefined ? [] : ["", `View the mention: ${options.itemUrl}`])
  ])
  return { subject, html, text }
}
