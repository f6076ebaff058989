/**
 * Sends push notifications through Firebase Cloud Messaging with
 * firebase-admin: one notification to all of a user's device tokens as one
 * `sendEach` call, one outcome per token in token order, so the caller can
 * record each delivery row and delete the devices FCM no longer knows.
 *
 * Configured from the environment (documented in the README table):
 * - `FCM_PROJECT_ID` and `FCM_CREDENTIALS` (path to a service-account JSON
 *   file): both unset = push is off; one without the other stops the start.
 * - `FCM_ENDPOINT` (`https://host:port` or `http://host:port`): send
 *   everything — OAuth token requests and FCM sends — to a server that speaks
 *   FCM's HTTP v1 protocol instead of Google (a local fake in tests).
 * - `FCM_TLS_INSECURE=true`: accept the endpoint's self-signed certificate;
 *   only with `FCM_ENDPOINT`, only for local fakes.
 *
 * Gotchas:
 * - firebase-admin's HTTP/1.1 transport is used (see `FcmAgent.ts`): it is the
 *   one that honours an agent, and with a keep-alive agent it reuses TLS
 *   connections across notifications, which the HTTP/2 transport (one new
 *   session per `sendEach`) does not.
 * - The SDK retries 503s and connection resets itself (up to 4 times, waiting
 *   up to 60 s each on `Retry-After`), so one `send` can take minutes; past
 *   `sendTimeout` every token is `Retryable`, though the SDK cannot be stopped
 *   and may still deliver — the collapse key makes such a repeat replace the
 *   first on the device instead of showing twice.
 */
import {
  ConfigurationError,
  type Cursor,
  type Notification,
  type NotificationId,
  type NotificationKind
} from "@herald/domain"
import { Clock, Config, Context, Duration, Effect, Layer, Option } from "effect"
import { cert, deleteApp, initializeApp } from "firebase-admin/app"
import { getMessaging, type Message } from "firebase-admin/messaging"
import { createHash, randomUUID } from "node:crypto"
import { type FcmEndpoint, makeFcmAgent } from "./FcmAgent.ts"
import { failed, fromSdkError, type PushOutcome, retryable, sent } from "./PushOutcome.ts"

export { PushOutcome } from "./PushOutcome.ts"

/** One notification for all of one user's devices. */
export interface PushMessage {
  readonly tokens: ReadonlyArray<string>
  readonly title: string
  readonly body: string | null
  /** An http(s) URL or an absolute path; sent in `data.link`, and as the web click target when it is https. */
  readonly link: string | null
  /** Messages with the same key replace each other (pending in FCM, and shown on iOS and the web). */
  readonly collapseKey: string
  readonly data: {
    readonly notificationId: NotificationId
    readonly cursor: Cursor
    readonly kind: NotificationKind
  }
}

/** The push for a stored notification; its id is the collapse key, so a retried send replaces the first. */
export const pushMessageOf = (notification: Notification, tokens: ReadonlyArray<string>): PushMessage => ({
  tokens,
  title: notification.title,
  body: notification.body,
  link: notification.link,
  collapseKey: notification.id,
  data: { notificationId: notification.id, cursor: notification.cursor, kind: notification.kind }
})

export interface PushSettings {
  readonly projectId: string
  /** Path to the service-account JSON file. */
  readonly credentialsFile: string
  readonly endpoint: Option.Option<FcmEndpoint>
  /** How long one `send` may take, the SDK's own retries included. */
  readonly sendTimeout: Duration.Duration
}

const offMessage = "push: off (set FCM_PROJECT_ID and FCM_CREDENTIALS)"

/** FCM takes at most 500 messages per `sendEach`. */
const MaxBatch = 500

export class PushSender extends Context.Service<PushSender, {
  /** False when FCM is not configured; `send` then answers `Failed` for every token. */
  readonly enabled: boolean
  /** One outcome per token, in the order of `message.tokens`. Never fails: FCM's answers are outcomes. */
  send(message: PushMessage): Effect.Effect<ReadonlyArray<PushOutcome>>
}>()("@herald/server/channels/push/PushSender") {
  /** From the environment: on when `FCM_PROJECT_ID` and `FCM_CREDENTIALS` are set, off (and says so) when neither is. */
  static readonly layer = Layer.effect(PushSender, Effect.gen(function*() {
    const settings = yield* pushSettings
    if (Option.isNone(settings)) {
      yield* Effect.logInfo(offMessage)
      return disabled
    }
    return yield* make(settings.value)
  }))

  static readonly layerWith = (settings: PushSettings) => Layer.effect(PushSender, make(settings))

  /** Push off, without reading the environment. */
  static readonly layerDisabled = Layer.sync(PushSender, () => disabled)
}

const disabled = PushSender.of({
  enabled: false,
  send: (message) =>
    Effect.succeed(message.tokens.map((token) =>
      failed(token, "push/not-configured", "push is not configured")
    ))
})

const pushEnv = Config.all({
  projectId: Config.option(Config.NonEmptyString("FCM_PROJECT_ID")),
  credentials: Config.option(Config.NonEmptyString("FCM_CREDENTIALS")),
  endpoint: Config.option(Config.URL("FCM_ENDPOINT")),
  tlsInsecure: Config.Boolean("FCM_TLS_INSECURE").pipe(Config.withDefault(false))
})

/** Under the delivery lease (2 minutes), so a slow send is recorded before another worker may claim its rows. */
export const defaultSendTimeout = Duration.seconds(90)

/** The push settings from the environment; `None` when push is off. */
export const pushSettings = Effect.gen(function*() {
  const env = yield* pushEnv
  if (Option.isNone(env.projectId) && Option.isNone(env.credentials)) {
    if (Option.isSome(env.endpoint)) {
      return yield* new ConfigurationError({ message: "FCM_ENDPOINT is set but FCM_PROJECT_ID and FCM_CREDENTIALS are not" })
    }
    return Option.none<PushSettings>()
  }
  if (Option.isNone(env.projectId) || Option.isNone(env.credentials)) {
    return yield* new ConfigurationError({
      message: "FCM_PROJECT_ID and FCM_CREDENTIALS must be set together (leave both unset to turn push off)"
    })
  }
  if (Option.isNone(env.endpoint) && env.tlsInsecure) {
    return yield* new ConfigurationError({ message: "FCM_TLS_INSECURE applies only with FCM_ENDPOINT (a local fake)" })
  }
  const endpoint = yield* Option.match(env.endpoint, {
    onNone: () => Effect.succeed(Option.none<FcmEndpoint>()),
    onSome: (url) =>
      (url.protocol === "https:" || url.protocol === "http:") && url.pathname === "/" && url.search === ""
        ? Effect.succeed(Option.some({ url, insecure: env.tlsInsecure }))
        : Effect.fail(new ConfigurationError({ message: `FCM_ENDPOINT must be https://host:port or http://host:port, got ${url.href}` }))
  })
  return Option.some<PushSettings>({
    projectId: env.projectId.value,
    credentialsFile: env.credentials.value,
    endpoint,
    sendTimeout: defaultSendTimeout
  })
})

const make = Effect.fnUntraced(function*(settings: PushSettings) {
  const agent = yield* Effect.acquireRelease(
    Effect.sync(() => makeFcmAgent(Option.getOrUndefined(settings.endpoint))),
    (agent) => Effect.sync(() => agent.destroy())
  )
  // By path, not as an object: for an object firebase-admin builds the OAuth client with
  // `GoogleAuth.fromJSON(json)`, which drops the agent, so the token request would go to Google.
  // (google-auth-library prints a deprecation notice about `keyFilename` once per start for this.)
  const credential = yield* Effect.try({
    try: () => cert(settings.credentialsFile, agent),
    catch: (cause) =>
      new ConfigurationError({ message: `FCM_CREDENTIALS: cannot use ${settings.credentialsFile}: ${messageOf(cause)}` })
  })
  const app = yield* Effect.acquireRelease(
    Effect.try({
      // A unique name: several senders (tests, a reloaded layer) must not share the SDK's default app.
      try: () => initializeApp({ credential, projectId: settings.projectId, httpAgent: agent }, `herald-push-${randomUUID()}`),
      catch: (cause) => new ConfigurationError({ message: `firebase-admin refused the FCM settings: ${messageOf(cause)}` })
    }),
    (app) => Effect.tryPromise(() => deleteApp(app)).pipe(Effect.ignore)
  )
  const messaging = getMessaging(app)
  // The transport that honours `httpAgent`; see FcmAgent.ts for why this is on in production too.
  messaging.enableLegacyHttpTransport()

  const sendBatch = Effect.fnUntraced(function*(message: PushMessage, tokens: ReadonlyArray<string>) {
    const result = yield* Effect.tryPromise({
      try: () => messaging.sendEach(tokens.map((token) => toFcmMessage(message, token))),
      catch: (error) => error
    }).pipe(
      Effect.timeoutOption(settings.sendTimeout),
      Effect.result
    )
    const now = yield* Clock.currentTimeMillis
    if (result._tag === "Failure") return tokens.map((token) => fromSdkError(token, result.failure, now))
    if (Option.isNone(result.success)) {
      const reason = `FCM did not answer within ${Duration.format(settings.sendTimeout)}`
      return tokens.map((token) => retryable(token, "push/timeout", reason))
    }
    const { responses } = result.success.value
    return tokens.map((token, i): PushOutcome => {
      const response = responses[i]
      if (response === undefined) {
        return retryable(token, "push/no-response", "firebase-admin returned no response for this token")
      }
      if (response.success && response.messageId !== undefined) {
        return sent(token, response.messageId)
      }
      return fromSdkError(token, response.error, now)
    })
  })

  const send = Effect.fn("PushSender.send")(function*(message: PushMessage) {
    yield* Effect.annotateCurrentSpan({
      "push.notification_id": message.data.notificationId,
      "push.tokens": message.tokens.length
    })
    const batches: Array<ReadonlyArray<string>> = []
    for (let i = 0; i < message.tokens.length; i += MaxBatch) batches.push(message.tokens.slice(i, i + MaxBatch))
    const outcomes = (yield* Effect.forEach(batches, (tokens) => sendBatch(message, tokens))).flat()
    yield* Effect.annotateCurrentSpan({
      "push.sent": outcomes.filter((o) => o._tag === "Sent").length,
      "push.invalid_tokens": outcomes.filter((o) => o._tag === "InvalidToken").length,
      "push.retryable": outcomes.filter((o) => o._tag === "Retryable").length,
      "push.failed": outcomes.filter((o) => o._tag === "Failed").length
    })
    return outcomes
  })

  yield* Effect.logInfo(
    `push: on (FCM project ${settings.projectId}` +
      Option.match(settings.endpoint, {
        onNone: () => ")",
        onSome: (endpoint) => `, endpoint ${endpoint.url.origin}${endpoint.insecure ? ", TLS not verified" : ""})`
      })
  )
  return PushSender.of({ enabled: true, send })
})

/** The FCM HTTP v1 message for one device; the collapse key set the way each platform wants it. */
const toFcmMessage = (message: PushMessage, token: string): Message => {
  const { link, collapseKey } = message
  return {
    token,
    notification: message.body === null ? { title: message.title } : { title: message.title, body: message.body },
    data: {
      notificationId: message.data.notificationId,
      cursor: String(message.data.cursor),
      kind: message.data.kind,
      ...(link === null ? {} : { link })
    },
    android: { collapseKey },
    apns: { headers: { "apns-collapse-id": apnsCollapseId(collapseKey) } },
    webpush: {
      headers: { Topic: webpushTopic(collapseKey) },
      // FCM accepts only an https link as the web notification's click target.
      ...(link !== null && link.startsWith("https://") ? { fcmOptions: { link } } : {})
    }
  }
}

const digest = (key: string) => createHash("sha256").update(key).digest("base64url")

/** APNs takes at most 64 bytes. */
const apnsCollapseId = (key: string) => (Buffer.byteLength(key) <= 64 ? key : digest(key))

/** Web Push (RFC 8030) takes at most 32 characters of the URL-safe base64 alphabet; a UUID does not fit. */
export const webpushTopic = (key: string) => (/^[A-Za-z0-9_-]{1,32}$/.test(key) ? key : digest(key).slice(0, 32))

const messageOf = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))
