/**
 * Push through `PushSender` and the real firebase-admin SDK — its OAuth token
 * request with a throwaway service account, and its FCM HTTP v1 `sendEach` —
 * against FakeFcm on a real TLS socket, configured by environment exactly as
 * the server is (`FCM_ENDPOINT`, `FCM_TLS_INSECURE`): what arrives for two
 * devices, and what FCM's error answers, an unreachable FCM and a refused
 * service account become.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cursor, NotificationId } from "@herald/domain"
import { type PushMessage, PushSender, webpushTopic } from "@herald/server/channels/push/PushSender"
import { ConfigProvider, Context, Duration, Effect, Exit, Layer, Logger, Option, References } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { anyToken, type FakeFcm, type FakeFcmOptions, makeFakeFcm, makeServiceAccount } from "../support/FakeFcm.ts"

const ProjectId = "herald-test"
const NotificationUuid = NotificationId.make("01936b2e-7a4c-7def-8abc-0123456789ab")

const message = (tokens: ReadonlyArray<string>, link: string | null = "https://app.example.com/tasks/7"): PushMessage => ({
  tokens,
  title: "Bob mentioned you",
  body: "in #general",
  link,
  collapseKey: NotificationUuid,
  data: { notificationId: NotificationUuid, cursor: Cursor.make(7), kind: "mention" }
})

/** A service-account JSON file for `FCM_CREDENTIALS`, removed with the scope. */
const credentialsFile = (json: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "herald-fcm-"))
      writeFileSync(join(dir, "service-account.json"), json)
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  ).pipe(Effect.map((dir) => join(dir, "service-account.json")))

/** `PushSender.layer` reading exactly `env` (not this process's environment), built in the test's scope. */
const senderFrom = (env: Record<string, string>) =>
  Layer.build(PushSender.layer.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))))).pipe(
    Effect.map((context) => Context.get(context, PushSender)),
    // The sender says which endpoint it uses each time it is built: not worth showing.
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )

/** A fake FCM and a sender pointed at it by environment, the service account's key checked by the fake. */
const pushAgainstFake = (options: Omit<FakeFcmOptions, "serviceAccountKey"> & { readonly wrongKey?: boolean } = {}) =>
  Effect.gen(function*() {
    const account = makeServiceAccount(ProjectId)
    const other = options.wrongKey === true ? makeServiceAccount(ProjectId) : account
    const fake: FakeFcm = yield* makeFakeFcm({ ...options, serviceAccountKey: other.publicKey })
    const credentials = yield* credentialsFile(account.json)
    const sender = yield* senderFrom({
      FCM_PROJECT_ID: ProjectId,
      FCM_CREDENTIALS: credentials,
      FCM_ENDPOINT: fake.url,
      FCM_TLS_INSECURE: fake.url.startsWith("https:") ? "true" : "false"
    })
    return { fake, sender }
  })

describe("push through firebase-admin to FCM", () => {
  it.live("a notification to two devices arrives once per token with title, body, link, collapse key and data", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      assert.isTrue(sender.enabled)
      const outcomes = yield* sender.send(message(["device-a", "device-b"]))

      assert.deepStrictEqual(outcomes.map((o) => [o._tag, o.token]), [["Sent", "device-a"], ["Sent", "device-b"]])
      const received = fake.received()
      assert.deepStrictEqual(received.map((m) => m.token).sort(), ["device-a", "device-b"])
      for (const m of received) {
        const outcome = outcomes.find((o) => o.token === m.token)
        assert.strictEqual(outcome?._tag === "Sent" ? outcome.messageId : "", `projects/${ProjectId}/messages/${m.messageId}`)
        assert.strictEqual(m.project, ProjectId)
        assert.deepStrictEqual(m.notification, { title: "Bob mentioned you", body: "in #general" })
        assert.deepStrictEqual(m.data, {
          notificationId: NotificationUuid,
          cursor: "7",
          kind: "mention",
          link: "https://app.example.com/tasks/7"
        })
        assert.strictEqual(m.collapseKey, NotificationUuid)
        assert.strictEqual(m.apnsCollapseId, NotificationUuid)
        // A UUID is longer than Web Push's 32-character topic: a stable digest of it is sent instead.
        assert.strictEqual(m.webpushTopic, webpushTopic(NotificationUuid))
        assert.match(m.webpushTopic ?? "", /^[A-Za-z0-9_-]{32}$/)
        assert.strictEqual(m.webpushLink, "https://app.example.com/tasks/7")
        assert.isFalse(m.validateOnly)
      }
      // One OAuth access token, fetched with the service account's signed JWT, served both sends.
      assert.strictEqual(fake.tokensIssued(), 1)
    }))

  it.live("a relative link goes in the data only, since FCM takes only an https link as the web click target", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      const outcomes = yield* sender.send(message(["device-path"], "/tasks/7"))
      assert.strictEqual(outcomes[0]?._tag, "Sent")
      const [m] = fake.received()
      assert.strictEqual(m?.data["link"], "/tasks/7")
      assert.isUndefined(m?.webpushLink)
    }))

  it.live("an UNREGISTERED token is InvalidToken while the other token in the same sendEach is Sent", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      fake.failNext("device-gone", "UNREGISTERED")
      const outcomes = yield* sender.send(message(["device-gone", "device-ok"]))

      const [gone, ok] = outcomes
      assert.strictEqual(gone?._tag, "InvalidToken")
      assert.strictEqual(gone?.token, "device-gone")
      assert.strictEqual(gone?._tag === "InvalidToken" ? gone.code : "", "messaging/registration-token-not-registered")
      assert.strictEqual(ok?._tag, "Sent")
      assert.strictEqual(ok?.token, "device-ok")
      assert.deepStrictEqual(fake.received().map((m) => m.token), ["device-ok"])
    }))

  it.live("INVALID_ARGUMENT about the token is InvalidToken; about the payload it is Failed, so the device is kept", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      fake.failNext("device-bad", "INVALID_ARGUMENT")
      fake.failNext("device-fine", "INVALID_PAYLOAD")
      const [bad, fine] = yield* sender.send(message(["device-bad", "device-fine"]))
      assert.strictEqual(bad?._tag, "InvalidToken")
      assert.strictEqual(bad?._tag === "InvalidToken" ? bad.code : "", "messaging/invalid-argument")
      assert.strictEqual(fine?._tag, "Failed")
      assert.strictEqual(fine?._tag === "Failed" ? fine.code : "", "messaging/invalid-argument")
    }))

  it.live("429 QUOTA_EXCEEDED with Retry-After is Retryable after that many milliseconds, without a retry by the SDK", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      fake.failNext("device-throttled", "QUOTA_EXCEEDED", { retryAfterSeconds: 30 })
      const [outcome] = yield* sender.send(message(["device-throttled"]))
      assert.strictEqual(outcome?._tag, "Retryable")
      if (outcome?._tag !== "Retryable") return
      assert.strictEqual(outcome.code, "messaging/message-rate-exceeded")
      assert.strictEqual(outcome.retryAfterMs, 30_000)
      assert.strictEqual(fake.attempts("device-throttled"), 1)
    }))

  it.live("a 503 once is retried by the SDK itself and the message is Sent", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      fake.failNext("device-blip", "UNAVAILABLE")
      const [outcome] = yield* sender.send(message(["device-blip"]))
      assert.strictEqual(outcome?._tag, "Sent")
      assert.strictEqual(fake.attempts("device-blip"), 2)
      assert.lengthOf(fake.received(), 1)
    }))

  it.live("503 UNAVAILABLE that outlasts the SDK's own retries is Retryable with FCM's Retry-After", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      fake.failNext("device-down", "UNAVAILABLE", { times: Infinity, retryAfterSeconds: 1 })
      const [outcome] = yield* sender.send(message(["device-down"]))
      assert.strictEqual(outcome?._tag, "Retryable")
      if (outcome?._tag !== "Retryable") return
      assert.strictEqual(outcome.code, "messaging/server-unavailable")
      assert.strictEqual(outcome.retryAfterMs, 1_000)
      // firebase-admin sends once and retries a 503 four times before it gives up.
      assert.strictEqual(fake.attempts("device-down"), 5)
    }))

  it.live("a 503 asking for more than a minute is not retried by the SDK and is Retryable with that wait", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      fake.failNext(anyToken, "UNAVAILABLE", { retryAfterSeconds: 120 })
      const [outcome] = yield* sender.send(message(["device-later"]))
      assert.strictEqual(outcome?._tag, "Retryable")
      assert.strictEqual(outcome?._tag === "Retryable" ? outcome.retryAfterMs : undefined, 120_000)
      assert.strictEqual(fake.attempts("device-later"), 1)
    }))

  it.live("a 500 INTERNAL is Retryable", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      fake.failNext("device-500", "INTERNAL")
      const [outcome] = yield* sender.send(message(["device-500"]))
      assert.strictEqual(outcome?._tag, "Retryable")
      assert.strictEqual(outcome?._tag === "Retryable" ? outcome.code : "", "messaging/internal-error")
    }))

  it.live("a connection cut mid-request never sends twice: the SDK retries it (Sent once) or Herald will (Retryable)", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      fake.failNext("device-reset", "DROP")
      const [outcome] = yield* sender.send(message(["device-reset"]))
      // Which one depends on the TCP race: a reset is retried by the SDK (ECONNRESET), but a cut
      // while the SDK is still writing the request surfaces as EPIPE, which it does not retry.
      if (outcome?._tag === "Sent") {
        assert.strictEqual(fake.attempts("device-reset"), 2)
        assert.deepStrictEqual(fake.received().map((m) => m.token), ["device-reset"])
      } else {
        assert.strictEqual(outcome?._tag, "Retryable")
        assert.deepStrictEqual(fake.received(), [])
      }
    }))

  it.live("an FCM that does not answer within the send timeout is Retryable for every token", () =>
    Effect.gen(function*() {
      const account = makeServiceAccount(ProjectId)
      const fake = yield* makeFakeFcm({ serviceAccountKey: account.publicKey })
      const credentials = yield* credentialsFile(account.json)
      const context = yield* Layer.build(PushSender.layerWith({
        projectId: ProjectId,
        credentialsFile: credentials,
        endpoint: Option.some({ url: new URL(fake.url), insecure: true }),
        sendTimeout: Duration.millis(500)
      })).pipe(Effect.provideService(References.MinimumLogLevel, "Warn"))
      fake.failNext(anyToken, "HANG", { times: 2 })
      const outcomes = yield* Context.get(context, PushSender).send(message(["device-slow-1", "device-slow-2"]))
      assert.deepStrictEqual(outcomes.map((o) => [o._tag, o._tag === "Retryable" ? o.code : ""]), [
        ["Retryable", "push/timeout"],
        ["Retryable", "push/timeout"]
      ])
    }))

  it.live("FCM down is Retryable for every token, and sending works again once it is back", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      assert.strictEqual((yield* sender.send(message(["device-1"])))[0]?._tag, "Sent")

      yield* fake.setDown(true)
      const down = yield* sender.send(message(["device-1", "device-2"]))
      assert.deepStrictEqual(down.map((o) => o._tag), ["Retryable", "Retryable"])
      assert.strictEqual(down[0]?._tag === "Retryable" ? down[0].code : "", "app/network-error")

      yield* fake.setDown(false)
      const back = yield* sender.send(message(["device-1", "device-2"]))
      assert.deepStrictEqual(back.map((o) => o._tag), ["Sent", "Sent"])
    }))

  it.live("FCM down before the first access token is Retryable too (the token request fails, not the key)", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake()
      yield* fake.setDown(true)
      const [outcome] = yield* sender.send(message(["device-early"]))
      assert.strictEqual(outcome?._tag, "Retryable")
      assert.strictEqual(outcome?._tag === "Retryable" ? outcome.code : "", "app/invalid-credential")
      assert.strictEqual(fake.tokensIssued(), 0)
    }))

  it.live("a service account the token endpoint refuses is Failed, not retried forever", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake({ wrongKey: true })
      const [outcome] = yield* sender.send(message(["device-x"]))
      assert.strictEqual(outcome?._tag, "Failed")
      assert.include(outcome?._tag === "Failed" ? outcome.reason : "", "invalid_grant")
      assert.lengthOf(fake.received(), 0)
    }))

  it.live("a plain http endpoint works too (no TLS)", () =>
    Effect.gen(function*() {
      const { fake, sender } = yield* pushAgainstFake({ tls: false })
      assert.isTrue(fake.url.startsWith("http://"))
      const [outcome] = yield* sender.send(message(["device-plain"]))
      assert.strictEqual(outcome?._tag, "Sent")
    }))

  it.live("without FCM_TLS_INSECURE the fake's self-signed certificate is refused", () =>
    Effect.gen(function*() {
      const { fake } = yield* pushAgainstFake()
      const credentials = yield* credentialsFile(makeServiceAccount(ProjectId).json)
      const sender = yield* senderFrom({ FCM_PROJECT_ID: ProjectId, FCM_CREDENTIALS: credentials, FCM_ENDPOINT: fake.url })
      const [outcome] = yield* sender.send(message(["device-tls"]))
      assert.strictEqual(outcome?._tag, "Retryable")
      assert.include(outcome?._tag === "Retryable" ? outcome.reason : "", "certificate")
      assert.strictEqual(fake.tokensIssued(), 0)
    }))
})

describe("push configuration", () => {
  it.effect("with neither FCM_PROJECT_ID nor FCM_CREDENTIALS push is off: it says so at start and sends nothing", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const capture = Logger.layer([Logger.make((options) => logs.push(String(options.message)))])
      const sender = yield* Layer.build(PushSender.layer.pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))),
        Layer.provide(capture)
      )).pipe(Effect.map((context) => Context.get(context, PushSender)))
      assert.isFalse(sender.enabled)
      assert.isTrue(logs.includes("push: off (set FCM_PROJECT_ID and FCM_CREDENTIALS)"), logs.join("\n"))
      const outcomes = yield* sender.send(message(["device-a"]))
      assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Failed"])
    }))

  it.effect.each([
    [{ FCM_PROJECT_ID: ProjectId }, "must be set together"],
    [{ FCM_CREDENTIALS: "/nonexistent/service-account.json", FCM_PROJECT_ID: ProjectId }, "FCM_CREDENTIALS: cannot use"],
    [{ FCM_ENDPOINT: "https://127.0.0.1:1" }, "FCM_ENDPOINT is set"],
    [{ FCM_PROJECT_ID: ProjectId, FCM_CREDENTIALS: "/x.json", FCM_TLS_INSECURE: "true" }, "only with FCM_ENDPOINT"],
    [{ FCM_PROJECT_ID: ProjectId, FCM_CREDENTIALS: "/x.json", FCM_ENDPOINT: "ftp://127.0.0.1/" }, "must be https://host:port"]
  ] as const)("a bad push configuration stops the start: %j", ([env, expected]) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(senderFrom(env))
      assert.isTrue(Exit.isFailure(exit))
      const cause = String(Exit.isFailure(exit) ? exit.cause : "")
      assert.include(cause, "ConfigurationError")
      assert.include(cause, expected)
    }))
})
