/**
 * What every email template shares: HTML escaping, the page frame with the
 * one-click unsubscribe footer, the plain-text frame, and item-link
 * resolution.
 *
 * Gotcha: every value that came from an app or a user (title, body, actor,
 * link, app name, URLs) goes through `escapeHtml` before it is placed in HTML,
 * attributes included; the subject and the text part are plain text and are
 * never escaped, only flattened (`oneLine`) or cleaned of control characters.
 */

/** One email, ready for the provider. */
export interface RenderedEmail {
  readonly subject: string
  readonly html: string
  readonly text: string
}

export interface TemplateOptions {
  /** The product name shown in the email ("Acme Tasks"). */
  readonly appName: string
  /** The one-click unsubscribe URL, shown in the footer (the sender also puts it in `List-Unsubscribe`). */
  readonly unsubscribeUrl: string
  /** Absolute http(s) URL of the item the notification is about; without it the email has no "open" link. */
  readonly itemUrl?: string | undefined
}

const Entities: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => Entities[char] ?? char)

// C0 controls other than tab and line feed, DEL and C1 controls: nothing a reader should get.
const Controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** Plain text for a body: carriage returns normalised, control characters dropped. */
export const cleanText = (value: string): string => value.replace(/\r\n?/g, "\n").replace(Controls, "")

/** One line for a subject or heading: any run of whitespace or control characters becomes one space. */
export const oneLine = (value: string): string =>
  value.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, " ").trim()

/** Escaped HTML for multi-line user text: paragraphs break on blank lines, lines on `<br>`. */
export const escapeMultiline = (value: string): string =>
  cleanText(value)
    .trim()
    .split(/\n{2,}/)
    .map((paragraph) => `<p style="${Styles.paragraph}">${escapeHtml(paragraph).replace(/\n/g, "<br>")}</p>`)
    .join("\n")

/**
 * An absolute http(s) URL from a notification's `link`: kept when absolute,
 * resolved against `baseUrl` when it is a path. Anything else (another
 * scheme, a path with no base, garbage) gives `undefined`, so no link is shown
 * rather than a wrong or unsafe one.
 */
export const resolveItemUrl = (link: string | null | undefined, baseUrl?: string | undefined): string | undefined => {
  if (link === null || link === undefined || link.length === 0) return undefined
  return httpUrl(link, baseUrl)
}

/** The normalised form of an http(s) URL (relative ones resolved against `baseUrl`), or `undefined`. */
export const httpUrl = (value: string, baseUrl?: string | undefined): string | undefined => {
  const base = baseUrl === undefined ? undefined : URL.parse(baseUrl) ?? undefined
  const url = URL.parse(value, base)
  return url !== null && (url.protocol === "https:" || url.protocol === "http:") ? url.href : undefined
}

export const Styles = {
  body: "margin:0;padding:0;background:#f4f5f7;",
  card:
    "max-width:560px;margin:0 auto;padding:24px 28px;background:#ffffff;color:#1f2328;" +
    "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;",
  app: "margin:0 0 16px;color:#59636e;font-size:13px;",
  heading: "margin:0 0 8px;font-size:20px;line-height:1.3;",
  title: "margin:0 0 12px;font-weight:600;",
  paragraph: "margin:0 0 12px;",
  quote: "margin:0 0 16px;padding:4px 0 4px 12px;border-left:3px solid #d1d9e0;color:#3d444d;",
  button:
    "display:inline-block;padding:10px 18px;border-radius:6px;background:#1f6feb;color:#ffffff;" +
    "text-decoration:none;font-weight:600;",
  footer: "margin:24px 0 0;padding-top:16px;border-top:1px solid #d1d9e0;color:#59636e;font-size:12px;"
} as const

/** The "open" button, or nothing when there is no item URL. */
export const button = (itemUrl: string | undefined, label: string): string =>
  itemUrl === undefined
    ? ""
    : `<p style="margin:20px 0 0;"><a href="${escapeHtml(itemUrl)}" style="${Styles.button}">${escapeHtml(label)}</a></p>`

/** The HTML document around a template's content, with the app name on top and the unsubscribe footer. */
export const htmlPage = (options: TemplateOptions, subject: string, content: string): string => {
  const appName = escapeHtml(oneLine(options.appName))
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(subject)}</title>
</head>
<body style="${Styles.body}">
<div style="${Styles.card}">
<p style="${Styles.app}">${appName}</p>
${content}
<p style="${Styles.footer}">You receive this email because email notifications are on for your ${appName} account.
<a href="${escapeHtml(options.unsubscribeUrl)}" style="color:#59636e;">Unsubscribe</a> from emails like this one in one click.</p>
</div>
</body>
</html>
`
}

/** The plain-text part: the template's lines, then the unsubscribe footer. */
export const textPage = (options: TemplateOptions, lines: ReadonlyArray<string>): string =>
  [
    ...lines,
    "",
    "-- ",
    `You receive this email because email notifications are on for your ${oneLine(options.appName)} account.`,
    `Unsubscribe in one click: ${options.unsubscribeUrl}`,
    ""
  ].join("\n")

/** A quoted block for the text part. */
export const quoteText = (value: string): ReadonlyArray<string> =>
  cleanText(value).trim().split("\n").map((line) => (line.length === 0 ? ">" : `> ${line}`))
