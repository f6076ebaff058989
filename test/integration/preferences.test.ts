/**
 * Per-user preferences and devices through the RPC API: defaults for new
 * and pre-rollout users, partial updates, in-app routing from the next
 * notification on, and device registration.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SignJWT } from "jose"
import { Herald } from "../support/Herald.ts"
import { openRaw, type ServerFrame } from "../support/RawSocket.ts"
import { tokenSecret } from "../support/TestServer.ts"

const titlesOf = (frames: ReadonlyArray<ServerFrame>) =>
  frames.flatMap((frame) => {
    const notification = frame["notification"]
    return frame.type === "notification" && typeof notification === "object" && notification !== null &&
        "title" in notification
      ? [String(notification.title)]
      : []
  })

layer(Herald.layer(), { excludeTestServices: true, timeout: "60 seconds" })("preferences and devices", (it) => {
  it.effect("a new user gets in-app on, push on and email in the digest for every kind", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const prefs = yield* herald.client.getPreferences("pr-new")
      assert.isFalse(prefs.existingBeforeRollout)
      assert.isNull(prefs.emailAddress)
      for (const kind of ["mention", "assignment", "status_update"] as const) {
        assert.deepStrictEqual({ ...prefs.kinds[kind] }, { inApp: true, push: true, email: "digest" })
      }
    }))

  it.effect("a user existing before the rollout defaults to immediate email with push off, keeping their own changes", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const user = "pr-existing"
      yield* herald.client.updatePreferences(user, { kinds: { mention: { push: true } } })
      const prefs = yield* herald.client.updatePreferences(user, { existingBeforeRollout: true })
      assert.isTrue(prefs.existingBeforeRollout)
      assert.deepStrictEqual({ ...prefs.kinds.assignment }, { inApp: true, push: false, email: "immediate" })
      assert.deepStrictEqual({ ...prefs.kinds.status_update }, { inApp: true, push: false, email: "immediate" })
      assert.deepStrictEqual({ ...prefs.kinds.mention }, { inApp: true, push: true, email: "immediate" }, "their own choice stays")
      const again = yield* herald.client.getPreferences(user)
      assert.deepStrictEqual(again, prefs)
    }))

  it.effect("an update changes only what it names and sets the email address", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const user = "pr-partial"
      const prefs = yield* herald.client.updatePreferences(user, {
        emailAddress: "pat@example.com",
        kinds: { status_update: { push: false, email: "off" } }
      })
      assert.strictEqual(prefs.emailAddress, "pat@example.com")
      assert.deepStrictEqual({ ...prefs.kinds.status_update }, { inApp: true, push: false, email: "off" })
      assert.deepStrictEqual({ ...prefs.kinds.mention }, { inApp: true, push: true, email: "digest" })
      const cleared = yield* herald.client.updatePreferences(user, { emailAddress: null })
      assert.isNull(cleared.emailAddress)
      assert.deepStrictEqual({ ...cleared.kinds.status_update }, { inApp: true, push: false, email: "off" })
    }))

  it.effect("a bad preference is refused naming the field and changes nothing", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const user = "pr-bad"
      const badEmail = yield* Effect.flip(herald.client.updatePreferences(user, { emailAddress: "not an address" }))
      assert.strictEqual(badEmail._tag, "InvalidRequest")
      if (badEmail._tag === "InvalidRequest") assert.strictEqual(badEmail.path, "patch.emailAddress")
      const badRoute = yield* Effect.flip(
        // @ts-expect-error: an email route that does not exist, as a caller without types could send
        herald.client.updatePreferences(user, { kinds: { mention: { email: "weekly" } } })
      )
      assert.strictEqual(badRoute._tag, "InvalidRequest")
      if (badRoute._tag === "InvalidRequest") assert.strictEqual(badRoute.path, "patch.kinds.mention.email")
      const prefs = yield* herald.client.getPreferences(user)
      assert.deepStrictEqual({ ...prefs.kinds.mention }, { inApp: true, push: true, email: "digest" })
    }))

  it.effect("in-app off for a kind keeps it out of sockets and resumes from the next notification, while the inbox keeps it", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const user = "pr-inapp"
      const socket = yield* openRaw(herald.server.wsUrl)
      yield* socket.sendJson({ type: "auth", token: yield* herald.token(user) })
      yield* socket.until("synced")

      yield* herald.client.updatePreferences(user, { kinds: { status_update: { inApp: false } } })
      yield* herald.client.notify({ userId: user, kind: "status_update", title: "quiet" })
      yield* herald.client.notify({ userId: user, kind: "mention", title: "loud" })
      assert.deepStrictEqual(titlesOf([yield* socket.next()]), ["loud"], "the muted kind is not sent live")

      yield* herald.client.updatePreferences(user, { kinds: { status_update: { inApp: true } } })
      yield* herald.client.notify({ userId: user, kind: "status_update", title: "audible again" })
      assert.deepStrictEqual(titlesOf([yield* socket.next()]), ["audible again"])

      const resumed = yield* openRaw(herald.server.wsUrl)
      yield* resumed.sendJson({ type: "auth", token: yield* herald.token(user), resume: 0 })
      assert.deepStrictEqual(titlesOf(yield* resumed.until("synced")), ["loud", "audible again"], "a resume replays what live sent")

      const inbox = yield* herald.client.listInbox({ userId: user })
      assert.deepStrictEqual(inbox.items.map((n) => n.title), ["audible again", "loud", "quiet"])
    }).pipe(Effect.scoped))

  it.effect("devices are registered, listed, moved between users and unregistered", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const phone = yield* herald.client.registerDevice("pr-dev-a", "fcm-token-phone", "android")
      assert.strictEqual(phone.platform, "android")
      yield* herald.client.registerDevice("pr-dev-a", "fcm-token-browser", "web")
      const listed = yield* herald.client.listDevices("pr-dev-a")
      assert.sameMembers(listed.map((d) => d.token), ["fcm-token-phone", "fcm-token-browser"])

      // The same phone signs in as another user: the token moves.
      yield* herald.client.registerDevice("pr-dev-b", "fcm-token-phone", "android")
      assert.deepStrictEqual((yield* herald.client.listDevices("pr-dev-a")).map((d) => d.token), ["fcm-token-browser"])
      assert.deepStrictEqual((yield* herald.client.listDevices("pr-dev-b")).map((d) => d.token), ["fcm-token-phone"])

      assert.isFalse(yield* herald.client.unregisterDevice("pr-dev-a", "fcm-token-phone"), "not theirs any more")
      assert.isTrue(yield* herald.client.unregisterDevice("pr-dev-b", "fcm-token-phone"))
      assert.isFalse(yield* herald.client.unregisterDevice("pr-dev-b", "fcm-token-phone"))
      assert.deepStrictEqual(yield* herald.client.listDevices("pr-dev-b"), [])

      const badPlatform = yield* Effect.flip(herald.client.registerDevice("pr-dev-a", "t", "blackberry"))
      assert.strictEqual(badPlatform._tag, "InvalidRequest")
      if (badPlatform._tag === "InvalidRequest") assert.strictEqual(badPlatform.path, "platform")
    }))

  it.effect("the one-click unsubscribe link turns that kind's email off; GET alone changes nothing", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const user = "pr-unsub"
      yield* herald.client.updatePreferences(user, { kinds: { mention: { email: "immediate" } } })
      const token = yield* Effect.promise(() =>
        new SignJWT({ kind: "mention" })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject(user)
          .setAudience("herald:unsubscribe")
          .setIssuer("herald")
          .setExpirationTime("1h")
          .sign(new TextEncoder().encode(tokenSecret))
      )
      const url = `${herald.server.url}/unsubscribe?t=${token}`
      const shown = yield* Effect.promise(() => fetch(url).then(async (r) => ({ status: r.status, body: await r.text() })))
      assert.strictEqual(shown.status, 200)
      assert.include(shown.body, "<form method=\"post\"")
      assert.strictEqual((yield* herald.client.getPreferences(user)).kinds.mention.email, "immediate", "a GET changes nothing")

      const clicked = yield* Effect.promise(() =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "List-Unsubscribe=One-Click"
        }).then((r) => r.status)
      )
      assert.strictEqual(clicked, 200)
      const prefs = yield* herald.client.getPreferences(user)
      assert.strictEqual(prefs.kinds.mention.email, "off")
      assert.strictEqual(prefs.kinds.assignment.email, "digest", "other kinds keep their email")

      const forged = yield* Effect.promise(() => fetch(`${herald.server.url}/unsubscribe?t=not-a-token`, { method: "POST" }).then((r) => r.status))
      assert.strictEqual(forged, 400)
    }))
})
