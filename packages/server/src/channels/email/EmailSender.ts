/**
 * Sends one notification as one email through Amazon SES (API v2,
 * `SendEmailCommand` with simple content: subject, HTML and text parts, and
 * the RFC 8058 one-click unsubscribe headers).
 *
 * `send` never fails: every result is an `EmailOutcome` that tells the
 * delivery worker what to do next — `Sent`, `Retryable` (throttling, SES
 * server errors, network, account-wide problems such as paused sending or bad
 * credentials, which are not this message's fault) or `Failed` (SES refused
 * this message for good: a bad address, rejected content).
 *
 * Configuration (read once, when the layer is built):
 * - `SES_FROM`: the verified sender (`Herald <noreply@example.com>`); unset = email is off;
 * - `SES_REGION`, else `AWS_REGION`: required when `SES_FROM` is set;
 * - `SES_ENDPOINT`: another endpoint than AWS's, for a local emulator;
 * - `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`: used when set,
 *   otherwise the AWS SDK's default credential chain (profiles, container and instance roles);
 * - `SES_APP_NAME` (default `Herald`): the product name shown in emails;
 * - `SES_LINK_BASE_URL`: base for notification links that are paths (`/tasks/7`).
 *
 * Gotchas: the SDK's own retries are off (`maxAttempts: 1`) because the
 * delivery worker retries with its own backoff, circuit breaker and attempt
 * limit; one request is given `RequestTimeout`, then it is aborted and
 * `Retryable`. RFC 8058 wants an https unsubscribe URL; http is accepted for
 * development only.
 */
import { SendEmailCommand, SESv2Client, type SESv2ClientConfig } from "@aws-sdk/client-sesv2"
import type { Notification } from "@herald/domain"
import { Config, ConfigProvider, Context, Duration, Effect, Layer, Option, Predicate, Redacted, Schema } from "effect"
import { renderDigest } from "./templates/digest.ts"
import { httpUrl, type RenderedEmail, renderEmail, resolveItemUrl } from "./templates/renderEmail.ts"

/** How long one SES request may take before it is aborted and reported `Retryable`. */
export const RequestTimeout = Duration.seconds(20)

/** What became of one email. */
export const EmailOutcome = Schema.TaggedUnion({
  /** SES accepted the message; `messageId` is SES's id for it (bounces and complaints refer to it). */
  Sent: { messageId: Schema.String },
  /** Not sent, worth trying again; `retryAfterMs` when SES said how long to wait. */
  Retryable: { reason: Schema.String, retryAfterMs: Schema.optionalKey(Schema.Number) },
  /** SES refused this message for good (bad address, rejected content): do not send it again. */
  Failed: { reason: Schema.String }
})
export type EmailOutcome = typeof EmailOutcome.Type

const sent = (messageId: string): EmailOutcome => EmailOutcome.cases.Sent.make({ messageId })
const retryable = (reason: string, retryAfterMs?: number): EmailOutcome =>
  EmailOutcome.cases.Retryable.make(retryAfterMs === undefined ? { reason } : { reason, retryAfterMs })
const failed = (reason: string): EmailOutcome => EmailOutcome.cases.Failed.make({ reason })

/** One email to send. */
export interface EmailMessage {
  /** The recipient's address (`alice@example.com`, no display name). */
  readonly to: string
  readonly notification: Notification
  /** The one-click unsubscribe URL (`https://…/unsubscribe?t=…`): in the footer and in `List-Unsubscribe`. */
  readonly unsubscribeUrl: string
  /** The item's URL; defaults to the notification's `link`, resolved against `SES_LINK_BASE_URL` when it is a path. */
  readonly itemUrl?: string | undefined
}

/** One digest to send. */
export interface DigestMessage {
  readonly to: string
  readonly items: ReadonlyArray<Notification>
  readonly unsubscribeUrl: string
}

/** SES settings, as `sesConfig` reads them. */
export interface SesSettings {
  readonly from: string
  readonly region: string
  readonly endpoint: Option.Option<string>
  readonly credentials: Option.Option<{
    readonly accessKeyId: string
    readonly secretAccessKey: Redacted.Redacted<string>
    readonly sessionToken: Option.Option<Redacted.Redacted<string>>
  }>
  readonly appName: string
  readonly linkBaseUrl: Option.Option<string>
}

// SES_REGION wins over AWS_REGION; neither is an error that names both.
const regionConfig: Config.Config<string> = Config.all({
  ses: Config.option(Config.NonEmptyString("SES_REGION")),
  aws: Config.option(Config.NonEmptyString("AWS_REGION"))
}).pipe(Config.flatMap(({ ses, aws }) =>
  Option.match(Option.orElse(ses, () => aws), {
    onNone: () =>
      Config.fail(new ConfigProvider.SourceError({ message: "SES_FROM is set but no region is: set SES_REGION or AWS_REGION" })),
    onSome: (region) => Config.succeed(region)
  })
))

const enabledConfig = (from: string): Config.Config<SesSettings> =>
  Config.all({
    region: regionConfig,
    endpoint: Config.option(Config.URL("SES_ENDPOINT")),
    accessKeyId: Config.option(Config.NonEmptyString("AWS_ACCESS_KEY_ID")),
    secretAccessKey: Config.option(Config.Redacted("AWS_SECRET_ACCESS_KEY")),
    sessionToken: Config.option(Config.Redacted("AWS_SESSION_TOKEN")),
    appName: Config.NonEmptyString("SES_APP_NAME").pipe(Config.withDefault("Herald")),
    linkBaseUrl: Config.option(Config.URL("SES_LINK_BASE_URL"))
  }).pipe(Config.map((c): SesSettings => ({
    from,
    region: c.region,
    endpoint: Option.map(c.endpoint, (url) => url.href),
    credentials: Option.zipWith(c.accessKeyId, c.secretAccessKey, (accessKeyId, secretAccessKey) => ({
      accessKeyId,
      secretAccessKey,
      sessionToken: c.sessionToken
    })),
    appName: c.appName,
    linkBaseUrl: Option.map(c.linkBaseUrl, (url) => url.href)
  })))

/** `None` when `SES_FROM` is unset: email is off. A set `SES_FROM` with no region is an error naming the variable. */
export const sesConfig: Config.Config<Option.Option<SesSettings>> = Config.option(Config.NonEmptyString("SES_FROM")).pipe(
  Config.flatMap(Option.match({
    onNone: () => Config.succeed(Option.none<SesSettings>()),
    onSome: (from) => enabledConfig(from).pipe(Config.map(Option.some))
  }))
)

export class EmailSender extends Context.Service<EmailSender, {
  /** False when email is off (`SES_FROM` unset); `send` then answers `Failed` without sending. */
  readonly enabled: boolean
  send(message: EmailMessage): Effect.Effect<EmailOutcome>
  /** One digest email of the user's waiting notifications (newest first). */
  sendDigest(message: DigestMessage): Effect.Effect<EmailOutcome>
}>()("@herald/server/channels/email/EmailSender") {
  /** SES when `SES_FROM` is set, the disabled sender otherwise; logs which, once. */
  static readonly layer = Layer.unwrap(Effect.gen(function*() {
    const settings = yield* sesConfig
    if (Option.isNone(settings)) {
      yield* Effect.logInfo("email: off (set SES_FROM to a verified sender address, and SES_REGION or AWS_REGION)")
      return EmailSender.layerDisabled
    }
    const { from, region, endpoint } = settings.value
    yield* Effect.logInfo(
      `email: on via SES in ${region}${Option.isSome(endpoint) ? ` at ${endpoint.value}` : ""}, from ${from}`
    )
    return EmailSender.layerSes(settings.value)
  }))

  /** Email off: nothing is sent, every `send` is `Failed`. */
  static readonly layerDisabled = Layer.succeed(EmailSender, EmailSender.of({
    enabled: false,
    send: () => Effect.succeed(failed("email is off: SES_FROM is not set")),
    sendDigest: () => Effect.succeed(failed("email is off: SES_FROM is not set"))
  }))

  /** SES with the given settings. */
  static readonly layerSes = (settings: SesSettings) => Layer.effect(EmailSender, Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => new SESv2Client(clientConfig(settings))),
      (client) => Effect.sync(() => client.destroy())
    )
    const linkBase = Option.getOrUndefined(settings.linkBaseUrl)

    // Checks the address and the unsubscribe link, renders, sends: shared by single emails and digests.
    const deliver = Effect.fnUntraced(function*(
      rawTo: string,
      rawUnsubscribeUrl: string,
      render: (unsubscribeUrl: string) => RenderedEmail
    ) {
      const to = rawTo.trim()
      if (!isEmailAddress(to)) {
        return failed(`not a valid email address: ${JSON.stringify(rawTo.slice(0, 100))}`)
      }
      const unsubscribeUrl = httpUrl(rawUnsubscribeUrl)
      if (unsubscribeUrl === undefined) {
        return failed("the unsubscribe URL is not an absolute http(s) URL")
      }
      const email = render(unsubscribeUrl)
      const command = new SendEmailCommand({
        FromEmailAddress: settings.from,
        Destination: { ToAddresses: [to] },
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: "UTF-8" },
            Body: {
              Html: { Data: email.html, Charset: "UTF-8" },
              Text: { Data: email.text, Charset: "UTF-8" }
            },
            Headers: [
              // RFC 8058: the mailbox provider POSTs `List-Unsubscribe=One-Click` to this URL.
              { Name: "List-Unsubscribe", Value: `<${unsubscribeUrl}>` },
              { Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click" }
            ]
          }
        }
      })
      const outcome = yield* Effect.tryPromise({
        try: (signal) => client.send(command, { abortSignal: signal }),
        catch: classifySesError
      }).pipe(
        Effect.match({
          // A 200 without an id still means SES took the message: sending it again would send it twice.
          onSuccess: (output) => sent(output.MessageId ?? ""),
          onFailure: (outcome) => outcome
        }),
        Effect.timeoutOrElse({
          duration: RequestTimeout,
          orElse: () => Effect.succeed(retryable(`SES did not answer within ${Duration.format(RequestTimeout)}`))
        })
      )
      yield* Effect.annotateCurrentSpan("herald.email_outcome", outcome._tag)
      return outcome
    })

    const send = Effect.fn("EmailSender.send")(function*(message: EmailMessage) {
      const { notification } = message
      yield* Effect.annotateCurrentSpan("herald.notification_id", notification.id)
      const itemUrl = message.itemUrl === undefined
        ? resolveItemUrl(notification.link, linkBase)
        : httpUrl(message.itemUrl)
      return yield* deliver(
        message.to,
        message.unsubscribeUrl,
        (unsubscribeUrl) => renderEmail(notification, { appName: settings.appName, unsubscribeUrl, itemUrl })
      )
    })

    const sendDigest = Effect.fn("EmailSender.sendDigest")(function*(message: DigestMessage) {
      yield* Effect.annotateCurrentSpan("herald.digest_items", message.items.length)
      return yield* deliver(
        message.to,
        message.unsubscribeUrl,
        (unsubscribeUrl) => renderDigest(message.items, { appName: settings.appName, unsubscribeUrl, linkBaseUrl: linkBase })
      )
    })

    return EmailSender.of({ enabled: true, send, sendDigest })
  }))
}

const clientConfig = (settings: SesSettings): SESv2ClientConfig => {
  const credentials = Option.getOrUndefined(Option.map(settings.credentials, (c) => ({
    accessKeyId: c.accessKeyId,
    secretAccessKey: Redacted.value(c.secretAccessKey),
    ...Option.match(c.sessionToken, { onNone: () => ({}), onSome: (token) => ({ sessionToken: Redacted.value(token) }) })
  })))
  return {
    region: settings.region,
    maxAttempts: 1,
    ...(Option.isSome(settings.endpoint) ? { endpoint: settings.endpoint.value } : {}),
    ...(credentials === undefined ? {} : { credentials })
  }
}

// The WHATWG `type=email` grammar (what browsers accept), and SES's 320-character limit.
const EmailAddress = Schema.String.pipe(Schema.check(
  Schema.isMaxLength(320),
  Schema.isPattern(
    /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/
  )
))
const isEmailAddress = Schema.is(EmailAddress)

// SES errors that are about this message: sending it again cannot help.
const PermanentErrors = new Set(["BadRequestException", "MessageRejected", "NotFoundException", "InvalidParameterValue"])
// Errors about the account or its limits, not this message: they pass (or an operator fixes them).
const AccountErrors = new Set([
  "AccountSuspendedException",
  "SendingPausedException",
  "MailFromDomainNotVerifiedException",
  "LimitExceededException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "AccessDeniedException",
  "ExpiredTokenException",
  "InvalidClientTokenId"
])
const ThrottlingErrors = new Set(["TooManyRequestsException", "ThrottlingException", "Throttling"])

const field = (value: unknown, key: string): unknown => Predicate.hasProperty(value, key) ? value[key] : undefined
const stringField = (value: unknown, key: string): string | undefined => {
  const found = field(value, key)
  return Predicate.isString(found) ? found : undefined
}

/** Seconds of a `Retry-After` header as milliseconds (SES rarely sends one; the HTTP-date form is ignored). */
const retryAfterMillis = (cause: unknown): number | undefined => {
  const header = stringField(field(field(cause, "$response"), "headers"), "retry-after")
  return header !== undefined && /^\d{1,6}$/.test(header.trim()) ? Number(header.trim()) * 1000 : undefined
}

/**
 * Maps what the SDK threw to an outcome, by the error's `name` (SES's error
 * type) and `$metadata.httpStatusCode`; no status at all means the request
 * never got an HTTP answer (connection refused or reset, DNS, timeout).
 */
export const classifySesError = (cause: unknown): EmailOutcome => {
  const name = stringField(cause, "name") ?? "Error"
  const code = stringField(cause, "code")
  const message = stringField(cause, "message") ?? String(cause)
  const status = field(field(cause, "$metadata"), "httpStatusCode")
  const reason = `${name}${code === undefined || code === name ? "" : ` ${code}`}${Predicate.isNumber(status) ? ` (HTTP ${status})` : ""}: ${message}`
  if (!Predicate.isNumber(status)) return retryable(`SES unreachable: ${reason}`)
  if (ThrottlingErrors.has(name) || status === 429) return retryable(`SES throttled: ${reason}`, retryAfterMillis(cause))
  if (status >= 500) return retryable(`SES error: ${reason}`, retryAfterMillis(cause))
  if (AccountErrors.has(name) || status === 401 || status === 403) return retryable(`SES account: ${reason}`)
  if (PermanentErrors.has(name) || (status >= 400 && status < 500)) return failed(`SES refused the message: ${reason}`)
  return retryable(`SES answered unexpectedly: ${reason}`)
}
