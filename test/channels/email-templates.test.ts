/**
 * The email templates as plain functions: every user-provided field is
 * escaped in the HTML part, links are only ever absolute http(s) URLs, and
 * the subject is one line.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cursor, Notification, NotificationId, type NotificationKind, UserId } from "@herald/domain"
import { renderEmail, resolveItemUrl } from "@herald/server/channels/email/templates/renderEmail"
import { DateTime } from "effect"

const Evil = `<img src=x onerror="alert('x')">`

const notification = (kind: NotificationKind, fields: Partial<Pick<Notification, "title" | "body" | "link" | "actor">> = {}) =>
  new Notification({
    id: NotificationId.make("01936b2e-7a4c-7def-8abc-0123456789ab"),
    userId: UserId.make("alice"),
    cursor: Cursor.make(1),
    kind,
    title: fields.title ?? `Title ${Evil}`,
    body: fields.body === undefined ? `Body ${Evil}` : fields.body,
    link: fields.link === undefined ? "https://app.example.com/items/1" : fields.link,
    actor: fields.actor === undefined ? `Actor ${Evil}` : fields.actor,
    idempotencyKey: null,
    createdAt: DateTime.makeUnsafe("2025-01-01T00:00:00Z"),
    readAt: null
  })

const options = {
  appName: `Acme ${Evil}`,
  unsubscribeUrl: `https://herald.example.com/unsubscribe?t=a"b&c=<d>`,
  itemUrl: "https://app.example.com/items/1?x=1&y=2"
}

const kinds: ReadonlyArray<NotificationKind> = ["mention", "assignment", "status_update"]

describe("email templates", () => {
  for (const kind of kinds) {
    it(`${kind}: title, body, actor and app name are escaped in the HTML and kept verbatim in the text`, () => {
      const email = renderEmail(notification(kind), options)
      assert.notInclude(email.html, "<img")
      assert.include(email.html, "Title &lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;")
      assert.include(email.html, "Body &lt;img")
      assert.include(email.html, "Actor &lt;img")
      assert.include(email.html, "Acme &lt;img")
      assert.include(email.html, `href="https://app.example.com/items/1?x=1&amp;y=2"`)
      assert.include(email.html, `href="https://herald.example.com/unsubscribe?t=a&quot;b&amp;c=&lt;d&gt;"`)
      assert.include(email.text, `Title ${Evil}`)
      assert.include(email.text, `Body ${Evil}`)
      assert.include(email.text, options.itemUrl)
      assert.include(email.text, `Unsubscribe in one click: ${options.unsubscribeUrl}`)
    })

    it(`${kind}: without an item URL there is no item link, the unsubscribe link stays`, () => {
      const email = renderEmail(notification(kind), { appName: "Acme", unsubscribeUrl: "https://u.example.com/u" })
      assert.notInclude(email.html, "app.example.com")
      assert.notInclude(email.text, "app.example.com")
      assert.include(email.html, `href="https://u.example.com/u"`)
    })

    it(`${kind}: the subject is one line even when the title has line breaks`, () => {
      const email = renderEmail(notification(kind, { title: "Deploy\r\nBcc: eve@example.com\tnow" }), options)
      assert.notMatch(email.subject, /[\r\n\t]/)
      assert.include(email.subject, "Deploy Bcc: eve@example.com now")
    })
  }

  it("each kind has its own subject", () => {
    const plain = { title: "Task 7", actor: "Bob" }
    assert.strictEqual(renderEmail(notification("mention", plain), options).subject, "Bob mentioned you: Task 7")
    assert.strictEqual(renderEmail(notification("assignment", plain), options).subject, "Bob assigned you: Task 7")
    assert.strictEqual(renderEmail(notification("assignment", { title: "Task 7", actor: null }), options).subject, "You were assigned: Task 7")
    assert.strictEqual(renderEmail(notification("status_update", plain), options).subject, "Status update: Task 7")
    assert.strictEqual(renderEmail(notification("mention", { title: "Task 7", actor: null }), options).subject, "Someone mentioned you: Task 7")
  })

  it("an empty body leaves no empty quote or paragraph", () => {
    const email = renderEmail(notification("mention", { body: null }), options)
    assert.notInclude(email.html, "<blockquote")
    assert.notInclude(email.text, "\n>")
  })

  it("item links: absolute http(s) kept, paths resolved against the base, anything else dropped", () => {
    assert.strictEqual(resolveItemUrl("https://app.example.com/a?b=1", undefined), "https://app.example.com/a?b=1")
    assert.strictEqual(resolveItemUrl("/tasks/7", "https://app.example.com/base/"), "https://app.example.com/tasks/7")
    assert.strictEqual(resolveItemUrl("/tasks/7", undefined), undefined)
    assert.strictEqual(resolveItemUrl("javascript:alert(1)", "https://app.example.com"), undefined)
    assert.strictEqual(resolveItemUrl("data:text/html,<script>", "https://app.example.com"), undefined)
    assert.strictEqual(resolveItemUrl(null, "https://app.example.com"), undefined)
    assert.strictEqual(resolveItemUrl("", "https://app.example.com"), undefined)
  })
})
