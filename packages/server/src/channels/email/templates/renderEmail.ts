/**
 * Renders a notification as an email, by kind: one template per
 * `NotificationKind`, each a plain function in its own file.
 *
 * @example
 * ```ts
 * const { subject, html, text } = renderEmail(notification, {
 *   appName: "Acme Tasks",
 *   unsubscribeUrl: "https://herald.example.com/unsubscribe?t=…",
 *   itemUrl: resolveItemUrl(notification.link, "https://app.example.com")
 * })
 * ```
 */
import type { Notification } from "@herald/domain"
import { renderAssignment } from "./assignment.ts"
import type { RenderedEmail, TemplateOptions } from "./layout.ts"
import { renderMention } from "./mention.ts"
import { renderStatusUpdate } from "./statusUpdate.ts"

export { escapeHtml, httpUrl, type RenderedEmail, resolveItemUrl, type TemplateOptions } from "./layout.ts"

export const renderEmail = (notification: Notification, options: TemplateOptions): RenderedEmail => {
  switch (notification.kind) {
    case "mention":
      return renderMention(notification, options)
    case "assignment":
      return renderAssignment(notification, options)
    case "status_update":
      return renderStatusUpdate(notification, options)
  }
}
