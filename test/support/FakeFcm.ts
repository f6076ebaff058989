/**
 * A fake Firebase Cloud Messaging backend on a real socket, speaking the
 * real wire protocol, so firebase-admin itself is what tests exercise:
 *
 * - `POST /token`: Google's OAuth 2.0 token endpoint for service accounts
 *   (JWT-bearer grant; the assertion's audience and scope are checked, and its
 *   RS256 signature when `serviceAccountKey` is given), answering
 *   `{access_token, expires_in, token_type}`.
 * - `POST /v1/projects/{project}/messages:send`: FCM HTTP v1. Requires a
 *   bearer token this fake issued, records the message and answers
 *   `{"name":"projects/{project}/messages/{id}"}`, or an error with FCM's real
 *   body (`error.status`, `details[].errorCode`, `Retry-After`) when a failure
 *   was programmed for the token.
 *
 * TLS by default, with a self-signed certificate for 127.0.0.1 made at start
 * with node:crypto (no openssl needed): point Herald at it with
 * `FCM_ENDPOINT=<url>` and `FCM_TLS_INSECURE=true`.
 */
import { Effect, Schema, type Scope } from "effect"
import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign, verify } from "node:crypto"
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import type { Server, Socket } from "node:net"

/**
 * FCM's error answers (by `details[].errorCode`), plus `DROP`: the connection is cut without an answer,
 * and `HANG`: no answer until the fake stops.
 */
export type FcmFailure =
  | "UNREGISTERED"
  | "INVALID_ARGUMENT"
  /** INVALID_ARGUMENT naming a payload field (`message.data`), not the token. */
  | "INVALID_PAYLOAD"
  | "QUOTA_EXCEEDED"
  | "UNAVAILABLE"
  | "INTERNAL"
  | "DROP"
  | "HANG"

/** `failNext(anyToken, …)`: the failure applies to whichever token comes next. */
export const anyToken: unique symbol = Symbol("FakeFcm.anyToken")

export interface ReceivedMessage {
  readonly project: string
  readonly messageId: string
  readonly token: string | undefined
  readonly notification: { readonly title?: string; readonly body?: string } | undefined
  readonly data: Readonly<Record<string, string>>
  /** `android.collapse_key` */
  readonly collapseKey: string | undefined
  /** `apns.headers["apns-collapse-id"]` */
  readonly apnsCollapseId: string | undefined
  /** `webpush.headers.Topic` */
  readonly webpushTopic: string | undefined
  /** `webpush.fcm_options.link` */
  readonly webpushLink: string | undefined
  readonly validateOnly: boolean
}

export interface FailOptions {
  /** How many requests in a row fail (the SDK retries 503s and resets up to 4 times); default 1. */
  readonly times?: number
  /** Sent as `Retry-After` (seconds) on QUOTA_EXCEEDED (default 30) and UNAVAILABLE (default none). */
  readonly retryAfterSeconds?: number
}

export interface FakeFcm {
  /** `https://127.0.0.1:<port>` (or `http://` without TLS): the value for `FCM_ENDPOINT`. */
  readonly url: string
  /** Messages FCM accepted, in arrival order. */
  received(): ReadonlyArray<ReceivedMessage>
  /** Send requests that reached the fake for `token`, answered or failed. */
  attempts(token: string): number
  /** Access tokens issued by the token endpoint. */
  tokensIssued(): number
  failNext(token: string | typeof anyToken, kind: FcmFailure, options?: FailOptions): void
  /** Forgets every failure still planned: the next requests are answered normally. */
  clearFailures(): void
  /** Down: the port refuses connections and open ones are cut. Up: listening again on the same port. */
  setDown(down: boolean): Effect.Effect<void>
}

export interface FakeFcmOptions {
  /** Default true. */
  readonly tls?: boolean
  /** The service account's public key: token requests whose JWT it does not verify are refused. */
  readonly serviceAccountKey?: KeyObject
}

const GoogleTokenUrl = "https://oauth2.googleapis.com/token"
const FcmErrorType = "type.googleapis.com/google.firebase.fcm.v1.FcmError"

const StringMap = Schema.Record(Schema.String, Schema.String)
const SendRequest = Schema.fromJsonString(Schema.Struct({
  message: Schema.Struct({
    token: Schema.optionalKey(Schema.String),
    topic: Schema.optionalKey(Schema.String),
    condition: Schema.optionalKey(Schema.String),
    notification: Schema.optionalKey(Schema.Struct({
      title: Schema.optionalKey(Schema.String),
      body: Schema.optionalKey(Schema.String)
    })),
    data: Schema.optionalKey(StringMap),
    android: Schema.optionalKey(Schema.Struct({
      collapse_key: Schema.optionalKey(Schema.String),
      collapseKey: Schema.optionalKey(Schema.String)
    })),
    apns: Schema.optionalKey(Schema.Struct({ headers: Schema.optionalKey(StringMap) })),
    webpush: Schema.optionalKey(Schema.Struct({
      headers: Schema.optionalKey(StringMap),
      fcm_options: Schema.optionalKey(Schema.Struct({ link: Schema.optionalKey(Schema.String) })),
      fcmOptions: Schema.optionalKey(Schema.Struct({ link: Schema.optionalKey(Schema.String) }))
    }))
  }),
  validate_only: Schema.optionalKey(Schema.Boolean)
}))
const decodeSendRequest = Schema.decodeUnknownOption(SendRequest)

const JwtClaims = Schema.fromJsonString(Schema.Struct({
  iss: Schema.String,
  aud: Schema.String,
  scope: Schema.String,
  iat: Schema.Number,
  exp: Schema.Number
}))
const decodeJwtClaims = Schema.decodeUnknownOption(JwtClaims)

/** FCM's error body for `kind`, as fcm.googleapis.com sends it. */
const errorAnswer = (kind: Exclude<FcmFailure, "DROP" | "HANG">, retryAfterSeconds: number | undefined) => {
  const fcmError = (code: number, status: string, errorCode: string, message: string, extra: ReadonlyArray<object> = []) => ({
    status: code,
    body: { error: { code, message, status, details: [{ "@type": FcmErrorType, errorCode }, ...extra] } }
  })
  const badRequest = (field: string, description: string) => ({
    "@type": "type.googleapis.com/google.rpc.BadRequest",
    fieldViolations: [{ field, description }]
  })
  switch (kind) {
    case "UNREGISTERED":
      return { ...fcmError(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."), retryAfter: undefined }
    case "INVALID_ARGUMENT": {
      const text = "The registration token is not a valid FCM registration token"
      return { ...fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", text, [badRequest("message.token", text)]), retryAfter: undefined }
    }
    case "INVALID_PAYLOAD": {
      const text = "Invalid data payload key: from"
      return { ...fcmError(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", text, [badRequest("message.data", text)]), retryAfter: undefined }
    }
    case "QUOTA_EXCEEDED":
      return {
        ...fcmError(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED",
          "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'."),
        retryAfter: retryAfterSeconds ?? 30
      }
    case "UNAVAILABLE":
      return { ...fcmError(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."), retryAfter: retryAfterSeconds }
    case "INTERNAL":
      return { ...fcmError(500, "INTERNAL", "INTERNAL", "Internal error encountered."), retryAfter: retryAfterSeconds }
  }
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers })
  res.end(JSON.stringify(body))
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

/** Starts the fake on a free port of 127.0.0.1; it stops when the scope closes. */
export const makeFakeFcm = (options: FakeFcmOptions = {}): Effect.Effect<FakeFcm, never, Scope.Scope> =>
  Effect.gen(function*() {
    const useTls = options.tls ?? true
    const received: Array<ReceivedMessage> = []
    const attempts = new Map<string, number>()
    const failures = new Map<string | typeof anyToken, { kind: FcmFailure; left: number; retryAfterSeconds: number | undefined }>()
    const issued = new Set<string>()
    const sockets = new Set<Socket>()

    const takeFailure = (token: string | undefined) => {
      const keys: ReadonlyArray<string | typeof anyToken | undefined> = [token, anyToken]
      for (const key of keys) {
        if (key === undefined) continue
        const failure = failures.get(key)
        if (failure === undefined) continue
        failure.left -= 1
        if (failure.left <= 0) failures.delete(key)
        return failure
      }
      return undefined
    }

    const handleToken = (res: ServerResponse, body: string) => {
      const form = new URLSearchParams(body)
      const [header, payload, signature] = (form.get("assertion") ?? "").split(".")
      const claims = decodeJwtClaims(Buffer.from(payload ?? "", "base64url").toString("utf8"))
      const signed = header !== undefined && payload !== undefined && signature !== undefined &&
        (options.serviceAccountKey === undefined ||
          verify("sha256", Buffer.from(`${header}.${payload}`), options.serviceAccountKey, Buffer.from(signature, "base64url")))
      if (
        form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer" || claims._tag === "None" || !signed ||
        claims.value.aud !== GoogleTokenUrl || !claims.value.scope.split(" ").includes("https://www.googleapis.com/auth/firebase.messaging")
      ) {
        return json(res, 400, { error: "invalid_grant", error_description: "Invalid JWT Signature." })
      }
      const accessToken = `ya29.fake-${randomBytes(16).toString("hex")}`
      issued.add(accessToken)
      return json(res, 200, { access_token: accessToken, expires_in: 3599, token_type: "Bearer" })
    }

    const handleSend = (req: IncomingMessage, res: ServerResponse, project: string, body: string) => {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]
      if (bearer === undefined || !issued.has(bearer)) {
        return json(res, 401, {
          error: {
            code: 401,
            message: "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            status: "UNAUTHENTICATED"
          }
        })
      }
      const request = decodeSendRequest(body)
      if (request._tag === "None") {
        return json(res, 400, { error: { code: 400, message: "Invalid JSON payload received.", status: "INVALID_ARGUMENT" } })
      }
      const { message } = request.value
      const targets = [message.token, message.topic, message.condition].filter((t) => t !== undefined)
      if (targets.length !== 1) {
        return json(res, 400, {
          error: { code: 400, message: "Exactly one of token, topic or condition must be set.", status: "INVALID_ARGUMENT" }
        })
      }
      if (message.token !== undefined) attempts.set(message.token, (attempts.get(message.token) ?? 0) + 1)
      const failure = takeFailure(message.token)
      if (failure !== undefined) {
        if (failure.kind === "DROP") return req.socket.destroy()
        if (failure.kind === "HANG") return
        const answer = errorAnswer(failure.kind, failure.retryAfterSeconds)
        return json(res, answer.status, answer.body, answer.retryAfter === undefined ? {} : { "Retry-After": String(answer.retryAfter) })
      }
      const validateOnly = request.value.validate_only === true
      const messageId = validateOnly ? "fake_message_id" : randomUUID()
      received.push({
        project,
        messageId,
        token: message.token,
        notification: message.notification,
        data: message.data ?? {},
        collapseKey: message.android?.collapse_key ?? message.android?.collapseKey,
        apnsCollapseId: message.apns?.headers?.["apns-collapse-id"],
        webpushTopic: message.webpush?.headers?.["Topic"],
        webpushLink: message.webpush?.fcm_options?.link ?? message.webpush?.fcmOptions?.link,
        validateOnly
      })
      return json(res, 200, { name: `projects/${project}/messages/${messageId}` })
    }

    const handle = (req: IncomingMessage, res: ServerResponse) => {
      readBody(req).then((body) => {
        const url = new URL(req.url ?? "/", "http://fake")
        const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname)
        if (req.method === "POST" && url.pathname === "/token") return handleToken(res, body)
        if (req.method === "POST" && send?.[1] !== undefined) return handleSend(req, res, decodeURIComponent(send[1]), body)
        return json(res, 404, { error: { code: 404, message: `no route ${req.method} ${url.pathname}`, status: "NOT_FOUND" } })
      }, () => req.socket.destroy())
    }

    const server: Server = useTls ? createHttpsServer(selfSignedCertificate(), handle) : createHttpServer(handle)
    server.on("connection", (socket: Socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })

    const listen = (port: number) =>
      Effect.callback<number>((resume) => {
        server.listen(port, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(address !== null && typeof address === "object" ? address.port : port))
        })
      })
    const stop = Effect.callback<void>((resume) => {
      if (!server.listening) return resume(Effect.void)
      server.close(() => resume(Effect.void))
      for (const socket of sockets) socket.destroy()
    })

    const port = yield* Effect.acquireRelease(listen(0), () => stop)

    return {
      url: `${useTls ? "https" : "http"}://127.0.0.1:${port}`,
      received: () => [...received],
      attempts: (token) => attempts.get(token) ?? 0,
      tokensIssued: () => issued.size,
      failNext: (token, kind, failOptions = {}) => {
        failures.set(token, { kind, left: failOptions.times ?? 1, retryAfterSeconds: failOptions.retryAfterSeconds })
      },
      clearFailures: () => failures.clear(),
      setDown: (down) => (down ? stop : server.listening ? Effect.void : Effect.asVoid(listen(port)))
    } satisfies FakeFcm
  })

/** A throwaway service account for `FCM_CREDENTIALS`: the JSON file's content and its public key for the fake. */
export const makeServiceAccount = (projectId: string) => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const json = {
    type: "service_account",
    project_id: projectId,
    private_key_id: randomBytes(20).toString("hex"),
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    client_email: `herald-test@${projectId}.iam.gserviceaccount.com`,
    client_id: "100000000000000000000",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: GoogleTokenUrl
  }
  return { json: JSON.stringify(json, null, 2), publicKey }
}

// --- a self-signed X.509 certificate for 127.0.0.1 and localhost, in DER built by hand -------------

const der = (tag: number, content: Buffer): Buffer => {
  const length = content.length
  const header = length < 0x80
    ? [tag, length]
    : length < 0x100
    ? [tag, 0x81, length]
    : [tag, 0x82, length >> 8, length & 0xff]
  return Buffer.concat([Buffer.from(header), content])
}
const sequence = (...items: ReadonlyArray<Buffer>) => der(0x30, Buffer.concat(items))
const objectId = (dotted: string) => {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number)
  const bytes = [first * 40 + second]
  for (const arc of rest) {
    const chunk = [arc & 0x7f]
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80)
    bytes.push(...chunk)
  }
  return der(0x06, Buffer.from(bytes))
}
const utcTime = (date: Date) => der(0x17, Buffer.from(date.toISOString().replace(/^\d\d|[-:T]|\.\d+/g, "")))

const selfSignedCertificate = () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
  const ecdsaWithSha256 = sequence(objectId("1.2.840.10045.4.3.2"))
  const name = sequence(der(0x31, sequence(objectId("2.5.4.3"), der(0x0c, Buffer.from("Herald fake FCM")))))
  const now = Date.now()
  const subjectAltName = sequence(der(0x87, Buffer.from([127, 0, 0, 1])), der(0x82, Buffer.from("localhost")))
  const serial = randomBytes(8)
  // DER wants a positive INTEGER in its shortest form: no high bit, and no leading zero byte.
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    ecdsaWithSha256,
    name,
    sequence(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 86_400_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    der(0xa3, sequence(sequence(objectId("2.5.29.17"), der(0x04, subjectAltName))))
  )
  const signature = sign("sha256", tbs, privateKey)
  const certificate = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])))
  const lines = certificate.toString("base64").match(/.{1,64}/g) ?? []
  return {
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    cert: `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`
  }
}
