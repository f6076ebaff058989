/**
 * The user-scoped API (`POST /rpc/me`): a client token reads and changes
 * only its own user's inbox, preferences and devices, and nothing in a
 * request can name another user. A missing, expired, wrongly signed token,
 * or an app or admin key in its place, is refused with HTTP 401 before any
 * handler runs, and changes nothing.
 */
import { assert, layer } from "@effect/vitest"
import { HeraldUserClient } from "@herald/client"
import { UserRpcs } from "@herald/domain"
import { Context, Effect, Layer } from "effect"
import { SignJWT } from "jose"
import { Herald } from "../support/Herald.ts"
import { adminKey, apiKey, tokenSecret } from "../support/TestServer.ts"

const userClient = (url: string, token: string) =>
  Layer.build(HeraldUserClient.layer({ url, token })).pipe(Effect.map(Context.get(HeraldUserClient)))

/** The user client of `userId`, with a token issued through the app API. */
const me = (userId: string) =>
  Effect.gen(function*() {
    const herald = yield* Herald
    return yield* userClient(herald.server.url, yield* herald.token(userId))
  })

/** One RPC as any HTTP client would send it to `/rpc/me`. */
const postMe = (url: string, authorization: string | undefined, tag: string, payload: unknown = null) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/rpc/me`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify({ _tag: "Request", id: "1", tag, payload, headers: [] })
    })
    return { status: response.status, body: await response.text() }
  })

const sign = (claims: { sub: string; exp: number }, secret: string, audience = "herald:socket") =>
  Effect.promise(() =>
    new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(claims.sub)
      .setAudience(audience)
      .setIssuer("herald")
      .setIssuedAt()
      .setExpirationTime(claims.exp)
      .sign(new TextEncoder().encode(secret))
  )

const notifyEach = (userId: string, titles: ReadonlyArray<string>) =>
  Effect.flatMap(Herald, (herald) =>
    Effect.forEach(titles, (title) => herald.client.notify({ userId, kind: "mention", title })))

layer(Herald.layer(), { excludeTestServices: true, timeout: "60 seconds" })("the user API (/rpc/me)", (it) => {
  it.effect("a client token lists, counts and marks only its own user's notifications", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const [alice, bob] = ["ua-alice", "ua-bob"]
      const aliceSent = yield* notifyEach(alice, ["a1", "a2", "a3"])
      const bobSent = yield* notifyEach(bob, ["b1", "b2"])
      const asAlice = yield* me(alice)

      const page = yield* asAlice.listInbox()
      assert.deepStrictEqual(page.items.map((n) => n.title), ["a3", "a2", "a1"], "newest first, only alice's")
      assert.isTrue(page.items.every((n) => n.userId === alice))
      assert.isNull(page.nextBefore)
      const first = yield* asAlice.listInbox({ limit: 2 })
      assert.strictEqual(first.items.length, 2)
      assert.isNotNull(first.nextBefore)
      const rest = yield* asAlice.listInbox({ before: first.nextBefore ?? 0 })
      assert.deepStrictEqual(rest.items.map((n) => n.title), ["a1"])
      assert.strictEqual(yield* asAlice.unreadCount(), 3)

      // Bob's id in alice's call is ignored: it is not hers.
      const ids = [aliceSent[0]?.id, bobSent[0]?.id].flatMap((id) => id ?? [])
      assert.strictEqual(yield* asAlice.markRead(ids), 1)
      assert.strictEqual(yield* asAlice.unreadCount(), 2)
      assert.strictEqual(yield* herald.client.unreadCount(bob), 2, "bob's notification is still unread")
      const unread = yield* asAlice.listInbox({ unreadOnly: true })
      assert.deepStrictEqual(unread.items.map((n) => n.title), ["a3", "a2"])

      assert.strictEqual(yield* asAlice.markAllRead(), 2)
      assert.strictEqual(yield* asAlice.unreadCount(), 0)
      assert.strictEqual(yield* herald.client.unreadCount(bob), 2, "marking all read is alice's all")
    }))

  it.effect("preferences and devices are the token's user's: changes reach no one else", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const [alice, bob] = ["ud-alice", "ud-bob"]
      yield* herald.client.registerDevice(alice, "alice-phone-token", "ios")
      yield* herald.client.registerDevice(bob, "bob-phone-token", "android")
      const asAlice = yield* me(alice)

      const devices = yield* asAlice.listDevices()
      assert.deepStrictEqual(devices.map((d) => d.token), ["alice-phone-token"])
      assert.isFalse(yield* asAlice.unregisterDevice("bob-phone-token"), "bob's device is not alice's to remove")
      assert.deepStrictEqual((yield* herald.client.listDevices(bob)).map((d) => d.token), ["bob-phone-token"])
      assert.isTrue(yield* asAlice.unregisterDevice("alice-phone-token"))
      assert.deepStrictEqual(yield* asAlice.listDevices(), [])

      const before = yield* herald.client.getPreferences(bob)
      yield* herald.client.updatePreferences(alice, { emailAddress: "alice@example.com" })
      const prefs = yield* asAlice.updatePreferences({ kinds: { mention: { push: false } }, digest: { timeZone: "Europe/Paris" } })
      assert.strictEqual(prefs.userId, alice)
      assert.isFalse(prefs.kinds.mention.push)
      assert.strictEqual(prefs.digest.timeZone, "Europe/Paris")
      assert.strictEqual(prefs.emailAddress, "alice@example.com", "the app's address is kept")
      assert.deepStrictEqual(yield* asAlice.getPreferences(), prefs)
      assert.deepStrictEqual(yield* herald.client.getPreferences(alice), prefs, "the app sees alice's change")
      assert.deepStrictEqual(yield* herald.client.getPreferences(bob), before, "bob's are untouched")

      // The address and the rollout flag are the app's: a client token (a stolen one, say) cannot
      // send the user's future email elsewhere. The server refuses both, naming the field, and
      // changes nothing else of the patch either.
      const asAliceRaw = `Bearer ${yield* herald.token(alice)}`
      for (const patch of [{ kinds: { mention: { push: true } }, emailAddress: "attacker@example.com" }, { existingBeforeRollout: true }]) {
        const raw = yield* postMe(herald.server.url, asAliceRaw, "UpdatePreferences", { patch })
        assert.include(raw.body, "Failure", raw.body)
        assert.include(raw.body, Object.keys(patch).at(-1) ?? "", raw.body)
        assert.include(raw.body, "set by the app", raw.body)
      }
      assert.deepStrictEqual(yield* herald.client.getPreferences(alice), prefs, "nothing changed")
    }))

  it.effect("a userId put into a payload is not read: the call still acts on the token's user", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const [alice, bob] = ["un-alice", "un-bob"]
      const [forAlice] = yield* notifyEach(alice, ["for alice"])
      yield* notifyEach(bob, ["for bob"])
      const asBob = `Bearer ${yield* herald.token(bob)}`
      // An extra key is ignored where a payload has fields, and refused where there is none.
      const listed = yield* postMe(herald.server.url, asBob, "ListInbox", { userId: alice })
      assert.include(listed.body, "for bob")
      assert.notInclude(listed.body, "for alice")
      const marked = yield* postMe(herald.server.url, asBob, "MarkRead", { userId: alice, ids: [forAlice?.id] })
      assert.include(marked.body, `"updated":0`, marked.body)
      const all = yield* postMe(herald.server.url, asBob, "MarkAllRead", { userId: alice })
      assert.include(all.body, "Failure", all.body)
      assert.strictEqual(yield* herald.client.unreadCount(alice), 1, "alice's stays unread")
      assert.strictEqual(yield* herald.client.unreadCount(bob), 1)
    }))

  it.effect("no, an expired, a wrongly signed or another audience's token, and the app and admin keys get 401 and change nothing", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const alice = "u401-alice"
      yield* notifyEach(alice, ["keep me unread"])
      const now = Math.floor(Date.now() / 1000)
      const refused: ReadonlyArray<readonly [string, string | undefined]> = [
        ["no header", undefined],
        ["not a bearer", `Basic ${btoa("alice:secret")}`],
        ["expired", `Bearer ${yield* sign({ sub: alice, exp: now - 60 }, tokenSecret)}`],
        ["wrong signature", `Bearer ${yield* sign({ sub: alice, exp: now + 3600 }, "another-secret-0123456789abcdef")}`],
        ["another audience", `Bearer ${yield* sign({ sub: alice, exp: now + 3600 }, tokenSecret, "herald:other")}`],
        ["garbage", "Bearer not.a.token"],
        ["the app key", `Bearer ${apiKey}`],
        ["the admin key", `Bearer ${adminKey}`]
      ]
      for (const tag of UserRpcs.UserRpcs.requests.keys()) {
        for (const [what, authorization] of refused) {
          const answer = yield* postMe(herald.server.url, authorization, tag)
          assert.strictEqual(answer.status, 401, `${tag} with ${what}: ${answer.body}`)
          assert.include(answer.body, "client token", `${tag} with ${what}`)
          assert.strictEqual(JSON.parse(answer.body).error, "Unauthorized")
        }
      }
      const expired = yield* postMe(herald.server.url, refused[2]?.[1], "MarkAllRead")
      assert.include(expired.body, "expired")
      assert.strictEqual(yield* herald.client.unreadCount(alice), 1, "nothing was marked")

      const get = yield* Effect.promise(() => fetch(`${herald.server.url}/rpc/me`).then((r) => r.status))
      assert.strictEqual(get, 405)
    }))

  it.effect("the typed client reports a refused token as Unauthorized and a bad field as InvalidRequest naming it", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const stranger = yield* userClient(herald.server.url, `${yield* herald.token("uc-alice")}x`)
      const refused = yield* Effect.flip(stranger.unreadCount())
      assert.strictEqual(refused._tag, "Unauthorized")
      assert.include(refused.message, "client token")

      const asAlice = yield* me("uc-alice")
      const noIds = yield* Effect.flip(asAlice.markRead([]))
      assert.strictEqual(noIds._tag, "InvalidRequest")
      assert.strictEqual(noIds._tag === "InvalidRequest" ? noIds.path : "", "ids")
      const badLimit = yield* Effect.flip(asAlice.listInbox({ limit: 0 }))
      assert.strictEqual(badLimit._tag === "InvalidRequest" ? badLimit.path : badLimit._tag, "limit")
      const badPatch = yield* Effect.flip(asAlice.updatePreferences({ digest: { timeZone: "Mars/Olympus_Mons" } }))
      assert.strictEqual(badPatch._tag === "InvalidRequest" ? badPatch.path : badPatch._tag, "patch.digest.timeZone")
    }))
})
