/**
 * Herald's web pages (`packages/web`, built with Vite at test time) served
 * by a real in-process server with the development login on, driven in
 * Debian's headless Chromium. Notifications are published with the `herald`
 * CLI, and what the pages change is read back through the typed clients.
 *
 * The tests share one server and run in order; the rollout test is last and
 * puts the flag back as it found it. Every wait polls the page (see
 * `pageSteps.ts`); nothing checks wall time. Screenshots of the three pages
 * at desktop and phone widths go to `test/artifacts/`.
 */
import { assert, layer } from "@effect/vitest"
import { HeraldAdminClient } from "@herald/client"
import { Context, Effect, Layer, Schema } from "effect"
import { Herald } from "../support/Herald.ts"
import { runCli } from "../support/HeraldCli.ts"
import { tcpProxy } from "../support/TcpProxy.ts"
import { adminKey, apiKey } from "../support/TestServer.ts"
import { eventually } from "../support/eventually.ts"
import { bellSays, devSignIn, listedTitles, pageErrors, statusSays, step, visible } from "./pageSteps.ts"
import { WebSite } from "./WebSite.ts"

const TestLayer = Layer.unwrap(Effect.map(WebSite, (site) => Herald.layer({ devLogin: true, webDir: site.webDir }))).pipe(
  Layer.provideMerge(WebSite.layer)
)

const SendResult = Schema.Struct({ id: Schema.String, cursor: Schema.Number, deduplicated: Schema.Boolean })

/** `herald send` as a user would type it, against the test server. */
const send = (userId: string, title: string, extra: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const herald = yield* Herald
    const run = yield* runCli(["send", "--user", userId, "--kind", "mention", "--title", title, ...extra, "--json"], {
      HERALD_URL: herald.server.url,
      HERALD_API_KEY: apiKey
    })
    assert.strictEqual(run.code, 0, `herald send failed: ${run.stderr}`)
    return Schema.decodeUnknownSync(SendResult)(JSON.parse(run.stdout))
  })

const adminClient = Effect.gen(function*() {
  const herald = yield* Herald
  return yield* Layer.build(HeraldAdminClient.layer({ url: herald.server.url, adminKey })).pipe(Effect.map(Context.get(HeraldAdminClient)))
})

layer(TestLayer, { excludeTestServices: true, timeout: "300 seconds" })("Herald's web pages in Chromium", (it) => {
  it.effect("a notification sent with the CLI appears on / with the count up, and Mark read and Mark all read bring it down", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const opened = yield* (yield* WebSite).open(`${herald.server.url}/`)
      yield* devSignIn(opened, "web-alice")
      yield* bellSays(opened, 0)
      yield* statusSays(opened, "Live")

      yield* send("web-alice", "Bob mentioned you in #general", ["--body", "Can you look at this?", "--link", "https://app.example.com/m/1"])
      yield* visible(opened, "the first notification", (page) => page.getByRole("heading", { name: "Bob mentioned you in #general" }))
      yield* bellSays(opened, 1)
      yield* send("web-alice", "Carol mentioned you in #design")
      yield* bellSays(opened, 2)
      assert.deepStrictEqual(yield* listedTitles(opened), ["Carol mentioned you in #design", "Bob mentioned you in #general"])
      const link = yield* step(opened, "reading the link", (page) => page.getByRole("link", { name: "Bob mentioned you in #general" }).getAttribute("href"))
      assert.strictEqual(link, "https://app.example.com/m/1")

      yield* step(opened, "pressing Mark read on Bob's", (page) => page.getByRole("button", { name: "Mark read: Bob mentioned you in #general" }).click())
      yield* bellSays(opened, 1)
      assert.strictEqual(yield* eventually(herald.client.unreadCount("web-alice"), (n) => n === 1), 1)

      yield* step(opened, "pressing Mark all read", (page) => page.getByRole("button", { name: "Mark all read" }).click())
      yield* bellSays(opened, 0)
      assert.strictEqual(yield* eventually(herald.client.unreadCount("web-alice"), (n) => n === 0), 0)

      yield* step(opened, "pressing Sign out", (page) => page.getByRole("button", { name: "Sign out" }).click())
      yield* visible(opened, "the sign-in again", (page) => page.getByText("You signed out."))
      yield* visible(opened, "the user id field", (page) => page.getByLabel("User id"))
      assert.deepStrictEqual(opened.problems, [])
    }), 120_000)

  it.effect("a token the server refuses sends / back to the sign-in, saying so", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const [header, claims] = (yield* herald.token("web-erin")).split(".")
      // Well-formed, so the page takes it, but the signature is not the server's.
      const forged = `${header}.${claims}.${"A".repeat(43)}`
      const opened = yield* (yield* WebSite).open(`${herald.server.url}/#token=${forged}`)
      yield* visible(opened, "the refusal", (page) => page.getByText("Herald refused your sign-in"))
      yield* visible(opened, "the user id field", (page) => page.getByLabel("User id"))
      assert.isNull(yield* step(opened, "reading the stored session", (page) => page.evaluate(() => sessionStorage.getItem("herald.session"))))
      assert.deepStrictEqual(pageErrors(opened), [])
    }), 120_000)

  it.effect("with the socket cut, / says Reconnecting…, then recovers with what was published meanwhile and the server's count", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      // The page's HTTP and socket both go through the proxy; the CLI talks to the server directly.
      const proxy = yield* tcpProxy({ host: "127.0.0.1", port: herald.server.port })
      const opened = yield* (yield* WebSite).open(`http://127.0.0.1:${proxy.port}/`)
      yield* devSignIn(opened, "web-bob")
      yield* statusSays(opened, "Live")
      yield* send("web-bob", "before the cut")
      yield* bellSays(opened, 1)

      yield* proxy.cut
      yield* statusSays(opened, "Reconnecting…")
      yield* send("web-bob", "published while the socket was cut")
      // Another device reads the first one: only the server's count, fetched after the reconnect, knows.
      yield* send("web-bob", "read elsewhere").pipe(Effect.flatMap((sent) => herald.client.markRead("web-bob", [sent.id])))
      assert.deepStrictEqual(yield* listedTitles(opened), ["before the cut"])

      yield* proxy.restore
      yield* statusSays(opened, "Live")
      yield* visible(opened, "the notification published while cut", (page) => page.getByRole("heading", { name: "published while the socket was cut" }))
      yield* bellSays(opened, 2)
      assert.deepStrictEqual(yield* listedTitles(opened), ["read elsewhere", "published while the socket was cut", "before the cut"])
      assert.deepStrictEqual(pageErrors(opened), [])
    }), 120_000)

  it.effect("/ pages through the whole inbox: Load more from the keyboard, then infinite scroll to the end", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      yield* herald.client.notifyBatch(Array.from({ length: 45 }, (_, i) => ({ userId: "web-carol", kind: "status_update" as const, title: `status ${i + 1}` })))
      const opened = yield* (yield* WebSite).open(`${herald.server.url}/`)
      yield* devSignIn(opened, "web-carol")
      yield* bellSays(opened, 45)
      yield* visible(opened, "the newest", (page) => page.getByRole("heading", { name: "status 45", exact: true }))

      yield* step(opened, "pressing Enter on Load more", (page) => page.getByRole("button", { name: "Load more" }).press("Enter"))
      yield* visible(opened, "the second page", (page) => page.getByRole("heading", { name: "status 25", exact: true }))
      // Scrolling to the bottom of the list loads the next page by itself.
      yield* step(opened, "scrolling to the end", async (page) => {
        for (let i = 0; i < 100 && !(await page.getByText("That is everything.").isVisible()); i++) {
          await page.locator(".sentinel").scrollIntoViewIfNeeded()
          await page.waitForTimeout(200)
        }
      })
      yield* visible(opened, "the end of the list", (page) => page.getByText("That is everything."))
      const titles = yield* listedTitles(opened)
      assert.deepStrictEqual(titles, Array.from({ length: 45 }, (_, i) => `status ${45 - i}`))
      assert.deepStrictEqual(opened.problems, [])
    }), 120_000)

  it.effect("/preferences signs in from #token, saves a change that the server keeps, and shows errors next to the field", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      yield* herald.client.registerDevice("web-dave", "fcm-token-of-daves-old-phone-0123456789", "android")
      // The address is the app's to set; the page only shows it.
      yield* herald.client.updatePreferences("web-dave", { emailAddress: "dave@example.com" })
      const token = yield* herald.token("web-dave")
      const opened = yield* (yield* WebSite).open(`${herald.server.url}/preferences#token=${token}`, { timezoneId: "America/New_York" })
      yield* visible(opened, "the matrix", (page) => page.getByRole("table", { name: "How each kind of notification reaches you" }))
      assert.notInclude(opened.page.url(), "token", "the token is removed from the address")
      // Never set: the picker offers the browser's zone.
      assert.strictEqual(yield* step(opened, "reading the zone", (page) => page.getByLabel("Time zone").inputValue()), "America/New_York")

      yield* visible(opened, "the address", (page) => page.getByText("Email goes to dave@example.com."))
      yield* step(opened, "clearing the digest time", (page) => page.getByLabel("At", { exact: true }).fill(""))
      yield* step(opened, "pressing Save", (page) => page.getByRole("button", { name: "Save" }).click())
      yield* visible(opened, "the time error", (page) => page.getByText("Enter a time as HH:MM"))
      assert.strictEqual(
        yield* step(opened, "reading aria-invalid", (page) => page.getByLabel("At", { exact: true }).getAttribute("aria-invalid")),
        "true"
      )
      assert.strictEqual((yield* herald.client.getPreferences("web-dave")).digest.schedule._tag, "daily", "nothing saved")

      yield* step(opened, "filling the form", async (page) => {
        await page.getByLabel("Mentions as push notifications").uncheck()
        await page.getByLabel("Status updates by email").selectOption("off")
        await page.getByLabel("Send the digest").selectOption("weekly")
        await page.getByLabel("On", { exact: true }).selectOption("tuesday")
        await page.getByLabel("At", { exact: true }).fill("07:30")
        await page.getByLabel("Time zone").selectOption("Europe/Paris")
        await page.getByLabel("Include notifications I have already read").check()
        await page.getByRole("button", { name: "Save" }).click()
      })
      yield* visible(opened, "Saved", (page) => page.getByRole("status").filter({ hasText: /^Saved$/ }))

      const saved = yield* herald.client.getPreferences("web-dave")
      assert.strictEqual(saved.emailAddress, "dave@example.com")
      assert.isFalse(saved.kinds.mention.push)
      assert.strictEqual(saved.kinds.status_update.email, "off")
      assert.deepStrictEqual(saved.digest.schedule, { _tag: "weekly", weekday: "tuesday", at: "07:30" })
      assert.strictEqual(saved.digest.timeZone, "Europe/Paris")
      assert.isTrue(saved.digest.includeRead)

      // After a reload (the session stays in the tab) the form shows what the server holds.
      yield* step(opened, "reloading", (page) => page.reload({ waitUntil: "load" }))
      yield* visible(opened, "the matrix again", (page) => page.getByRole("table", { name: "How each kind of notification reaches you" }))
      const shown = yield* step(opened, "reading the form", async (page) => ({
        email: await page.locator("#pref-email-address").textContent(),
        push: await page.getByLabel("Mentions as push notifications").isChecked(),
        statusEmail: await page.getByLabel("Status updates by email").inputValue(),
        zone: await page.getByLabel("Time zone").inputValue()
      }))
      assert.deepStrictEqual(shown, { email: "Email goes to dave@example.com.", push: false, statusEmail: "off", zone: "Europe/Paris" })

      yield* step(opened, "removing the device", (page) => page.getByRole("button", { name: /^Remove Android/ }).click())
      yield* visible(opened, "Device removed", (page) => page.getByText("Device removed."))
      assert.deepStrictEqual(yield* herald.client.listDevices("web-dave"), [])
      assert.deepStrictEqual(opened.problems, [])
    }), 120_000)

  it.effect("/admin refuses a wrong key, then the kill switch (after its confirmation) flips the flag, audited as web-admin", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const admin = yield* adminClient
      const opened = yield* (yield* WebSite).open(`${herald.server.url}/admin`)

      yield* step(opened, "entering a wrong key", async (page) => {
        await page.getByLabel("Admin key").fill("not-the-admin-key", { timeout: 45_000 })
        await page.getByRole("button", { name: "Open admin" }).click()
      })
      yield* visible(opened, "the refusal", (page) => page.getByText("The server refused this admin key (401)"))
      yield* step(opened, "entering the admin key", async (page) => {
        await page.getByLabel("Admin key").fill(adminKey)
        await page.getByRole("button", { name: "Open admin" }).click()
      })
      yield* visible(opened, "the flag at 100 %", (page) => page.locator("#flag-percentage").filter({ hasText: "100 %" }))

      yield* step(opened, "pressing the 25 % phase", (page) => page.getByRole("button", { name: "25 %", exact: true }).click())
      yield* visible(opened, "25 % pressed", (page) => page.locator("button[aria-pressed=true]").filter({ hasText: "25 %" }))
      assert.strictEqual((yield* admin.getRollout()).state.percentage, 25)

      yield* step(opened, "opening the kill switch, then Cancel", async (page) => {
        await page.getByRole("button", { name: "Kill switch…" }).click()
        await page.getByRole("dialog", { name: "Turn the kill switch on?" }).waitFor({ timeout: 45_000 })
        await page.getByRole("button", { name: "Cancel" }).click()
        await page.getByRole("dialog").waitFor({ state: "hidden", timeout: 45_000 })
      })
      assert.isFalse((yield* admin.getRollout()).state.killed, "Cancel changes nothing")

      yield* step(opened, "confirming the kill switch with a reason", async (page) => {
        await page.getByRole("button", { name: "Kill switch…" }).click()
        await page.getByRole("dialog").getByLabel("Reason").fill("browser test: kill from /admin")
        await page.getByRole("button", { name: "Turn the kill switch on" }).click()
      })
      yield* visible(opened, "the Resume button", (page) => page.getByRole("button", { name: "Resume" }))
      yield* visible(opened, "the kill switch ON", (page) => page.locator("#flag-killed").filter({ hasText: "ON" }))
      assert.isTrue((yield* admin.getRollout()).state.killed)
      const [kill] = yield* admin.rolloutHistory(1)
      assert.strictEqual(kill?.action, "kill")
      assert.strictEqual(kill?.actor, "web-admin")
      assert.strictEqual(kill?.reason, "browser test: kill from /admin")
      yield* visible(opened, "the kill in the history", (page) => page.locator("table.history").getByText("browser test: kill from /admin"))

      yield* step(opened, "pressing Resume, then 100 % in the field", async (page) => {
        await page.getByRole("button", { name: "Resume" }).click()
        await page.getByRole("button", { name: "Kill switch…" }).waitFor({ timeout: 45_000 })
        await page.getByLabel("Any percentage").fill("100")
        await page.getByRole("button", { name: "Set percentage" }).click()
      })
      yield* visible(opened, "the flag back at 100 %", (page) => page.locator("#flag-percentage").filter({ hasText: "100 %" }))
      const after = yield* admin.getRollout()
      assert.isFalse(after.state.killed)
      assert.strictEqual(after.state.percentage, 100)
      // The failed sign-in logged its 401; nothing else may have gone wrong.
      assert.deepStrictEqual(opened.problems.filter((problem) => !problem.includes("401")), [])
    }), 120_000)
})
