/**
 * The three web pages with real data at desktop (1280×800) and phone
 * (390×844) widths: none scrolls sideways (at 390 px, nor at 360 px, the
 * narrowest width they support), none logs an error, and a full-page
 * screenshot of each goes to `test/artifacts/<page>-<width>.png` for people
 * to look at.
 */
import { assert, layer } from "@effect/vitest"
import { HeraldAdminClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { Herald } from "../support/Herald.ts"
import { adminKey } from "../support/TestServer.ts"
import { bellSays, screenshot, sidewaysOverflow, statusSays, step, visible } from "./pageSteps.ts"
import { artifactsDir, type OpenedPage, WebSite } from "./WebSite.ts"

const TestLayer = Layer.unwrap(Effect.map(WebSite, (site) => Herald.layer({ devLogin: true, webDir: site.webDir }))).pipe(
  Layer.provideMerge(WebSite.layer)
)

const user = "shot-alice"
const widths = [
  { name: "desktop", viewport: { width: 1280, height: 800 } },
  { name: "phone", viewport: { width: 390, height: 844 } }
] as const

/** Fails unless the page fits `width` without sideways scrolling. */
const fits = (opened: OpenedPage, page: string, width: number) =>
  Effect.gen(function*() {
    yield* step(opened, `resizing to ${width} px`, (p) => p.setViewportSize({ width, height: 844 }))
    assert.strictEqual(yield* sidewaysOverflow(opened), 0, `${page} scrolls sideways at ${width} px`)
  })

layer(TestLayer, { excludeTestServices: true, timeout: "300 seconds" })("Herald's web pages at desktop and phone widths", (it) => {
  it.effect("each page fits desktop and phone widths without sideways scrolling or errors, with a screenshot of each", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const site = yield* WebSite
      const admin = yield* Layer.build(HeraldAdminClient.layer({ url: herald.server.url, adminKey })).pipe(Effect.map(Context.get(HeraldAdminClient)))
      yield* herald.client.registerDevice(user, "fcm-registration-token-of-alices-phone-0001", "android")
      yield* herald.client.registerDevice(user, "fcm-registration-token-of-alices-laptop-002", "web")
      yield* admin.changeRollout({ action: "allow", userId: "beta-tester", actor: "test", reason: "screenshot data" })
      yield* admin.changeRollout({ action: "deny", userId: "noisy-bot", actor: "test", reason: "screenshot data" })
      const [build] = yield* herald.client.notifyBatch([
        { userId: user, kind: "status_update", title: "Build #512 passed", body: "All 214 checks passed on main." },
        { userId: user, kind: "assignment", title: "You were assigned “Fix the login timeout”", link: "https://app.example.com/issues/88", actor: "dana" }
      ])
      // One read item, so the screenshots show both states.
      if (build !== undefined) yield* herald.client.markRead(user, [build.id])

      for (const { name, viewport } of widths) {
        const center = yield* site.open(`${herald.server.url}/#token=${yield* herald.token(user)}`, { viewport })
        yield* statusSays(center, "Live")
        if (name === "desktop") {
          // Published while a socket is open, so the admin page's latency chart has points to draw.
          yield* herald.client.notify({
            userId: user,
            kind: "mention",
            title: "Bob mentioned you in #general",
            body: "@alice can you review the release notes before 5 pm? They are in the shared folder.",
            link: "https://app.example.com/messages/42",
            actor: "bob"
          })
          yield* herald.client.notify({ userId: user, kind: "mention", title: "Carol replied to your comment", actor: "carol" })
        }
        yield* bellSays(center, 3)
        yield* visible(center, "the newest notification", (page) => page.getByRole("heading", { name: "Carol replied to your comment" }))
        yield* screenshot(center, `center-${name}`)
        if (name === "phone") yield* fits(center, "/", 360)
        else assert.strictEqual(yield* sidewaysOverflow(center), 0)
        assert.deepStrictEqual(center.problems, [])

        const preferences = yield* site.open(`${herald.server.url}/preferences#token=${yield* herald.token(user)}`, { viewport, timezoneId: "Europe/Berlin" })
        yield* visible(preferences, "the devices", (page) => page.getByRole("button", { name: /^Remove Android/ }))
        yield* screenshot(preferences, `preferences-${name}`)
        if (name === "phone") yield* fits(preferences, "/preferences", 360)
        else assert.strictEqual(yield* sidewaysOverflow(preferences), 0)
        assert.deepStrictEqual(preferences.problems, [])

        const rollout = yield* site.open(`${herald.server.url}/admin`, { viewport })
        yield* step(rollout, "entering the admin key", async (page) => {
          await page.getByLabel("Admin key").fill(adminKey, { timeout: 45_000 })
          await page.getByRole("button", { name: "Open admin" }).click()
        })
        yield* visible(rollout, "the allow list", (page) => page.getByRole("button", { name: "Remove beta-tester from the allow list" }))
        yield* visible(rollout, "a point on the latency chart", (page) => page.locator(".series-p50 circle"))
        yield* screenshot(rollout, `admin-${name}`)
        yield* step(rollout, "opening the kill switch dialog", (page) => page.getByRole("button", { name: "Kill switch…" }).click())
        yield* visible(rollout, "the dialog", (page) => page.getByRole("dialog", { name: "Turn the kill switch on?" }))
        yield* step(rollout, "screenshot of the dialog", (page) => page.screenshot({ path: `${artifactsDir}/admin-kill-dialog-${name}.png` }))
        yield* step(rollout, "cancelling", (page) => page.getByRole("button", { name: "Cancel" }).click())
        if (name === "phone") yield* fits(rollout, "/admin", 360)
        else assert.strictEqual(yield* sidewaysOverflow(rollout), 0)
        assert.deepStrictEqual(rollout.problems, [])
      }
      assert.isFalse((yield* admin.getRollout()).state.killed)
    }), 240_000)
})
