/**
 * Email through `EmailSender` and the real AWS SDK (SESv2 `SendEmailCommand`)
 * against a local SES, aws-ses-v2-local, reached by endpoint: what arrives for
 * each kind, and what a bad address, an unreachable SES and SES's error
 * answers become. The emulator stores custom headers, so the one-click
 * unsubscribe headers are checked on the stored email.
 */
import { assert, layer } from "@effect/vitest"
import { Cursor, Notification, NotificationId, type NotificationKind, UserId } from "@herald/domain"
import { type EmailMessage, EmailSender } from "@herald/server/channels/email/EmailSender"
import { ConfigProvider, DateTime, Effect, Exit, Layer, Logger, References } from "effect"
import { failingSes, type SesFault, SesEmulator } from "../support/SesEmulator.ts"

const From = "Acme Tasks <notifications@acme.example.com>"
const Unsubscribe = "https://herald.example.com/unsubscribe?t=tok_123&u=alice"
const Title = `Fix <script>alert("x")</script> & ship`

const sesEnv = (endpoint: string): Record<string, string> => ({
  SES_FROM: From,
  SES_REGION: "eu-west-1",
  SES_ENDPOINT: endpoint,
  AWS_ACCESS_KEY_ID: "test-key",
  AWS_SECRET_ACCESS_KEY: "test-secret",
  SES_APP_NAME: "Acme Tasks",
  SES_LINK_BASE_URL: "https://app.example.com"
})

/** `EmailSender.layer` reading exactly `env` (not this process's environment). */
const senderLayer = (env: Record<string, string>) =>
  EmailSender.layer.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))))

const senderService = Effect.gen(function*() {
  return yield* EmailSender
})

const sendWith = (env: Record<string, string>, message: EmailMessage) =>
  senderService.pipe(
    Effect.flatMap((sender) => sender.send(message)),
    Effect.provide(senderLayer(env)),
    // The sender logs which endpoint it uses each time it is built: not worth showing.
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )

const notification = (kind: NotificationKind) =>
  new Notification({
    id: NotificationId.make("01936b2e-7a4c-7def-8abc-0123456789ab"),
    userId: UserId.make("alice"),
    cursor: Cursor.make(1),
    kind,
    title: Title,
    body: "Line one <b>bold?</b>\nLine two",
    link: "/tasks/7?tab=comments&focus=1",
    actor: "Bob <bob@example.com>",
    idempotencyKey: null,
    createdAt: DateTime.makeUnsafe("2025-01-01T00:00:00Z"),
    readAt: null
  })

const subjects: Record<NotificationKind, string> = {
  mention: `Bob <bob@example.com> mentioned you: ${Title}`,
  assignment: `Bob <bob@example.com> assigned you: ${Title}`,
  status_update: `Status update: ${Title}`
}

layer(SesEmulator.layer, { excludeTestServices: true })("email through SES", (it) => {
  for (const kind of ["mention", "assignment", "status_update"] satisfies ReadonlyArray<NotificationKind>) {
    it.effect(`${kind === "assignment" ? "an" : "a"} ${kind} arrives as one email with its subject, the escaped title, both links in both parts and the one-click unsubscribe headers`, () =>
      Effect.gen(function*() {
        const ses = yield* SesEmulator
        const to = `alice+${kind}@example.com`
        const outcome = yield* sendWith(sesEnv(ses.url), { to, notification: notification(kind), unsubscribeUrl: Unsubscribe })
        assert.strictEqual(outcome._tag, "Sent")
        const messageId = outcome._tag === "Sent" ? outcome.messageId : ""
        const stored = (yield* ses.emails).filter((email) => email.messageId === messageId)
        assert.lengthOf(stored, 1)
        const [email] = stored
        assert.isDefined(email)
        if (email === undefined) return

        assert.strictEqual(email.from, From)
        assert.deepStrictEqual(email.destination.to, [to])
        assert.strictEqual(email.subject, subjects[kind])

        const html = email.body.html ?? ""
        const text = email.body.text ?? ""
        assert.include(html, "Fix &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; ship")
        assert.include(html, "Bob &lt;bob@example.com&gt;")
        assert.include(html, "Line one &lt;b&gt;bold?&lt;/b&gt;<br>Line two")
        assert.notInclude(html, "<script")
        assert.notInclude(html, "<b>")
        // The relative link resolved against SES_LINK_BASE_URL; `&` escaped inside attributes.
        assert.include(html, `href="https://app.example.com/tasks/7?tab=comments&amp;focus=1"`)
        assert.include(html, `href="https://herald.example.com/unsubscribe?t=tok_123&amp;u=alice"`)
        assert.include(html, "Acme Tasks")

        assert.include(text, Title)
        // Plain text is not escaped (the mention quotes the message with "> ").
        assert.include(text, "Line one <b>bold?</b>")
        assert.include(text, "Line two")
        assert.include(text, "https://app.example.com/tasks/7?tab=comments&focus=1")
        assert.include(text, Unsubscribe)

        assert.strictEqual(email.header("List-Unsubscribe"), `<${Unsubscribe}>`)
        assert.strictEqual(email.header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
      }))
  }

  it.effect("an explicit itemUrl is the email's item link", () =>
    Effect.gen(function*() {
      const ses = yield* SesEmulator
      const outcome = yield* sendWith(sesEnv(ses.url), {
        to: "alice@example.com",
        notification: notification("assignment"),
        unsubscribeUrl: Unsubscribe,
        itemUrl: "https://tasks.example.org/t/7"
      })
      assert.strictEqual(outcome._tag, "Sent")
      const email = (yield* ses.emails).find((e) => outcome._tag === "Sent" && e.messageId === outcome.messageId)
      assert.include(email?.body.html ?? "", `href="https://tasks.example.org/t/7"`)
      assert.include(email?.body.text ?? "", "Open the assignment: https://tasks.example.org/t/7")
      assert.notInclude(email?.body.text ?? "", "app.example.com/tasks/7")
    }))

  it.effect("a malformed recipient address is a permanent failure and nothing reaches SES", () =>
    Effect.gen(function*() {
      const ses = yield* SesEmulator
      const before = (yield* ses.emails).length
      for (const to of ["not an address", "alice@", "alice@example.com\r\nBcc: eve@example.com", ""]) {
        const outcome = yield* sendWith(sesEnv(ses.url), { to, notification: notification("mention"), unsubscribeUrl: Unsubscribe })
        assert.strictEqual(outcome._tag, "Failed", `to ${JSON.stringify(to)}`)
        assert.include(outcome._tag === "Failed" ? outcome.reason : "", "not a valid email address")
      }
      assert.lengthOf(yield* ses.emails, before)
    }))

  it.effect("an unsubscribe URL that is not http(s) is a permanent failure", () =>
    Effect.gen(function*() {
      const ses = yield* SesEmulator
      const outcome = yield* sendWith(sesEnv(ses.url), {
        to: "alice@example.com",
        notification: notification("mention"),
        unsubscribeUrl: "javascript:alert(1)"
      })
      assert.strictEqual(outcome._tag, "Failed")
    }))

  it.effect("SES down (connection refused) is retryable", () =>
    Effect.gen(function*() {
      const down = yield* SesEmulator.make
      yield* down.close
      const outcome = yield* sendWith(sesEnv(down.url), {
        to: "alice@example.com",
        notification: notification("mention"),
        unsubscribeUrl: Unsubscribe
      })
      assert.strictEqual(outcome._tag, "Retryable")
      assert.include(outcome._tag === "Retryable" ? outcome.reason : "", "SES unreachable")
    }).pipe(Effect.scoped))

  const faults: ReadonlyArray<readonly [SesFault, "Retryable" | "Failed", number | undefined]> = [
    [{ status: 429, type: "TooManyRequestsException", retryAfterSeconds: 3 }, "Retryable", 3000],
    [{ status: 429, type: "TooManyRequestsException" }, "Retryable", undefined],
    [{ status: 500, type: "InternalServiceErrorException" }, "Retryable", undefined],
    [{ status: 503, type: "ServiceUnavailable" }, "Retryable", undefined],
    [{ status: 400, type: "SendingPausedException" }, "Retryable", undefined],
    [{ status: 403, type: "UnrecognizedClientException" }, "Retryable", undefined],
    [{ status: 400, type: "MessageRejected", message: "Email address is not verified." }, "Failed", undefined],
    [{ status: 400, type: "BadRequestException", message: "Illegal address" }, "Failed", undefined],
    [{ status: 404, type: "NotFoundException" }, "Failed", undefined]
  ]
  for (const [fault, expected, retryAfterMs] of faults) {
    it.effect(`SES answering ${fault.status} ${fault.type} is ${expected}`, () =>
      Effect.gen(function*() {
        const ses = yield* failingSes(fault)
        const outcome = yield* sendWith(sesEnv(ses.url), {
          to: "alice@example.com",
          notification: notification("status_update"),
          unsubscribeUrl: Unsubscribe
        })
        assert.strictEqual(outcome._tag, expected, JSON.stringify(outcome))
        assert.include(outcome._tag === "Sent" ? "" : outcome.reason, fault.type)
        assert.strictEqual(outcome._tag === "Retryable" ? outcome.retryAfterMs : undefined, retryAfterMs)
      }).pipe(Effect.scoped))
  }

  it.effect("without SES_FROM email is off: it says so at start and sends nothing", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const capture = Logger.layer([Logger.make((options) => logs.push(String(options.message)))])
      const sender = yield* senderService.pipe(
        Effect.provide(EmailSender.layer.pipe(
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { AWS_REGION: "eu-west-1" } }))),
          Layer.provide(capture)
        ))
      )
      assert.isFalse(sender.enabled)
      assert.isTrue(logs.some((line) => line.startsWith("email: off (set SES_FROM")), logs.join("\n"))
      const outcome = yield* sender.send({ to: "alice@example.com", notification: notification("mention"), unsubscribeUrl: Unsubscribe })
      assert.strictEqual(outcome._tag, "Failed")
    }))

  it.effect("SES_FROM without SES_REGION or AWS_REGION stops the start with an error naming the variable", () =>
    Effect.gen(function*() {
      const exit = yield* senderService.pipe(
        Effect.provide(senderLayer({ SES_FROM: From })),
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(exit), "set SES_REGION or AWS_REGION")
    }))
})
