/**
 * Fuzzing client tokens with fast-check: random strings, JWT-looking garbage
 * and JWTs forged with `jose` that are right in every way but one (signed
 * with another secret, another audience or issuer, `alg: none`, another HMAC
 * algorithm, expired, not yet valid, no `exp`, a subject that is not a user
 * id or none, or another user's payload under the original signature). Each
 * is offered to a real socket and to `/rpc/me`:
 *
 * - the socket gets exactly one error frame, `token_expired` with close 4402
 *   for an expired token and `invalid_token` with close 4401 for all others,
 *   and never `ready`: nobody is authenticated;
 * - `/rpc/me` answers 401 with the problem JSON naming the same reason.
 *
 * A control first: the same forging code with nothing wrong is accepted, so
 * the refusals are the server's judgement of the one defect, not a broken forge.
 */
import { assert, layer } from "@effect/vitest"
import { Socket, TokenRejected, UserId } from "@herald/domain"
import { Effect, Exit, Schema } from "effect"
import fc from "fast-check"
import { SignJWT, UnsecuredJWT } from "jose"
import { Herald } from "../support/Herald.ts"
import { checkProperty } from "../support/Property.ts"
import { tokenSecret } from "../support/TestServer.ts"
import { openText } from "../support/TextSocket.ts"
import { anyString, jwtLike } from "./Arbitraries.ts"

const Victim = "fz-tok-victim"
const Audience = "herald:socket"
const Issuer = "herald"

type Forgery =
  | { readonly _tag: "garbage"; readonly token: string }
  | { readonly _tag: "otherSecret"; readonly secret: string }
  | { readonly _tag: "audience"; readonly audience: string | ReadonlyArray<string> }
  | { readonly _tag: "issuer"; readonly issuer: string }
  | { readonly _tag: "algNone" }
  | { readonly _tag: "otherAlg"; readonly alg: "HS384" | "HS512" }
  | { readonly _tag: "expired"; readonly secondsAgo: number }
  | { readonly _tag: "notBefore"; readonly secondsAhead: number }
  | { readonly _tag: "noExpiry" }
  | { readonly _tag: "badSubject"; readonly subject: string }
  | { readonly _tag: "noSubject" }
  | { readonly _tag: "tampered"; readonly subject: string }

const isUserId = Schema.is(UserId)
const validUserId = fc.stringMatching(/^[A-Za-z0-9_\-.@:|]{1,128}$/)

const forgery: fc.Arbitrary<Forgery> = fc.oneof(
  fc.oneof(anyString, jwtLike).filter((token) => token.length >= 1).map((token): Forgery => ({ _tag: "garbage", token })),
  fc.string({ minLength: 1, maxLength: 64 }).filter((secret) => secret !== tokenSecret).map((secret): Forgery => ({ _tag: "otherSecret", secret })),
  fc.oneof(fc.string({ maxLength: 32 }), fc.array(fc.string({ maxLength: 16 }), { maxLength: 3 }))
    .filter((audience) => typeof audience === "string" ? audience !== Audience : !audience.includes(Audience))
    .map((audience): Forgery => ({ _tag: "audience", audience })),
  fc.string({ maxLength: 32 }).filter((issuer) => issuer !== Issuer).map((issuer): Forgery => ({ _tag: "issuer", issuer })),
  fc.constant<Forgery>({ _tag: "algNone" }),
  fc.constantFrom("HS384" as const, "HS512" as const).map((alg): Forgery => ({ _tag: "otherAlg", alg })),
  fc.integer({ min: 5, max: 10_000_000 }).map((secondsAgo): Forgery => ({ _tag: "expired", secondsAgo })),
  fc.integer({ min: 60, max: 10_000_000 }).map((secondsAhead): Forgery => ({ _tag: "notBefore", secondsAhead })),
  fc.constant<Forgery>({ _tag: "noExpiry" }),
  anyString.filter((subject) => !isUserId(subject)).map((subject): Forgery => ({ _tag: "badSubject", subject })),
  fc.constant<Forgery>({ _tag: "noSubject" }),
  validUserId.filter((subject) => subject !== Victim).map((subject): Forgery => ({ _tag: "tampered", subject }))
)

const expectedReason = (forged: Forgery): TokenRejected["reason"] => forged._tag === "expired" ? "token_expired" : "invalid_token"
const closeCodeFor = (reason: TokenRejected["reason"]) =>
  reason === "token_expired" ? Socket.CloseCodes.tokenExpired : Socket.CloseCodes.invalidToken

const now = () => Math.floor(Date.now() / 1000)
const encoder = new TextEncoder()
const decodeClaims = Schema.decodeUnknownSync(Schema.fromJsonString(Schema.Record(Schema.String, Schema.Unknown)))
const base64url = (json: object) => Buffer.from(JSON.stringify(json)).toString("base64url")

/** A token right in every way for `Victim`, except where `forged` says. */
const forge = (forged: Forgery, victimToken: string): Promise<string> => {
  const issuedAt = now()
  const claims = (subject: string | undefined, expiry: number | undefined) => {
    const jwt = new SignJWT({}).setAudience(forged._tag === "audience" ? [...forged.audience] : Audience)
      .setIssuer(forged._tag === "issuer" ? forged.issuer : Issuer)
      .setIssuedAt(issuedAt)
    if (subject !== undefined) jwt.setSubject(subject)
    if (expiry !== undefined) jwt.setExpirationTime(expiry)
    if (forged._tag === "notBefore") jwt.setNotBefore(issuedAt + forged.secondsAhead)
    return jwt
  }
  const key = encoder.encode(forged._tag === "otherSecret" ? forged.secret : tokenSecret)
  switch (forged._tag) {
    case "garbage":
      return Promise.resolve(forged.token)
    case "algNone":
      return Promise.resolve(
        new UnsecuredJWT({}).setSubject(Victim).setAudience(Audience).setIssuer(Issuer).setIssuedAt(issuedAt).setExpirationTime(issuedAt + 3600).encode()
      )
    case "tampered": {
      // The victim's real token, its payload swapped for another user's, its signature kept.
      const [header = "", payload = "", signature = ""] = victimToken.split(".")
      const claimsOf = decodeClaims(Buffer.from(payload, "base64url").toString())
      return Promise.resolve(`${header}.${base64url({ ...claimsOf, sub: forged.subject })}.${signature}`)
    }
    case "otherAlg":
      return claims(Victim, issuedAt + 3600).setProtectedHeader({ alg: forged.alg }).sign(key)
    case "expired":
      return claims(Victim, issuedAt - forged.secondsAgo).setProtectedHeader({ alg: "HS256" }).sign(key)
    case "noExpiry":
      return claims(Victim, undefined).setProtectedHeader({ alg: "HS256" }).sign(key)
    case "badSubject":
      return claims(forged.subject, issuedAt + 3600).setProtectedHeader({ alg: "HS256" }).sign(key)
    case "noSubject":
      return claims(undefined, issuedAt + 3600).setProtectedHeader({ alg: "HS256" }).sign(key)
    case "otherSecret":
    case "audience":
    case "issuer":
    case "notBefore":
      return claims(Victim, issuedAt + 3600).setProtectedHeader({ alg: "HS256" }).sign(key)
  }
}

/** The body of a refused HTTP request (packages/server/src/gateway/Problem.ts), with the token's refusal reason. */
const TokenProblem = Schema.fromJsonString(Schema.Struct({
  error: Schema.Literal("Unauthorized"),
  message: Schema.String,
  reason: TokenRejected.fields.reason
}))
const decodeProblem = Schema.decodeUnknownExit(TokenProblem)
const decodeServerFrame = Schema.decodeUnknownExit(Socket.ServerFrameJson)

/** Visible ASCII only: anything else cannot be an HTTP header value, and fetch would refuse to send it. */
const isHeaderSafe = (token: string) => /^[\x21-\x7e]+$/.test(token)

layer(Herald.layer({ limits: { connectsPerIp: 0 } }), { excludeTestServices: true, timeout: "60 seconds" })("fuzzed client tokens", (it) => {
  it.effect("every forged, expired or garbage token is refused on the socket and on /rpc/me, with the documented code", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const victimToken = yield* herald.token(Victim)

      // Control: the forge with no defect makes a token the server accepts.
      const control = yield* Effect.promise(() =>
        new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(Victim).setAudience(Audience).setIssuer(Issuer)
          .setIssuedAt(now()).setExpirationTime(now() + 3600).sign(encoder.encode(tokenSecret))
      )
      const accepted = yield* openText(herald.server.wsUrl)
      yield* accepted.sendText(JSON.stringify({ type: "auth", token: control }))
      yield* accepted.waitFor((messages) => messages.length >= 2)
      const typeOf = (text: string) => Exit.match(decodeServerFrame(text), { onFailure: () => "undecodable", onSuccess: (frame) => frame.type })
      assert.deepStrictEqual(accepted.received().map((m) => typeOf(m.text)), ["ready", "synced"])
      yield* accepted.close()

      const run = (forged: Forgery) =>
        Effect.gen(function*() {
          const token = yield* Effect.promise(() => forge(forged, victimToken))
          const reason = expectedReason(forged)

          const socket = yield* openText(herald.server.wsUrl)
          yield* socket.sendText(JSON.stringify({ type: "auth", token }))
          const code = yield* socket.closed()
          const frames = socket.received().map((message) => {
            assert.isFalse(message.binary)
            const decoded = decodeServerFrame(message.text)
            assert.isTrue(Exit.isSuccess(decoded), `a documented frame: ${message.text}`)
            return Exit.isSuccess(decoded) ? decoded.value : undefined
          })
          const [only, ...rest] = frames
          assert.strictEqual(rest.length, 0, `one error frame and nothing else: ${JSON.stringify(socket.received())}`)
          assert.strictEqual(only?.type, "error")
          if (only?.type === "error") assert.strictEqual(only.code, reason)
          assert.strictEqual(code, closeCodeFor(reason))

          if (isHeaderSafe(token)) {
            const response = yield* Effect.promise(async () => {
              const res = await fetch(`${herald.server.url}/rpc/me`, {
                method: "POST",
                headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
                body: JSON.stringify({ _tag: "Request", id: "1", tag: "UnreadCount", payload: {}, headers: [] })
              })
              return { status: res.status, body: await res.text() }
            })
            assert.strictEqual(response.status, 401, response.body)
            const problem = decodeProblem(response.body)
            assert.isTrue(Exit.isSuccess(problem), `a documented refusal: ${response.body}`)
            if (Exit.isSuccess(problem)) assert.strictEqual(problem.value.reason, reason)
          }
        })

      const { numRuns } = yield* checkProperty(forgery, run, { numRuns: 200 })
      assert.isAtLeast(numRuns, 1)
    }), 240_000)
})
