/**
 * Small steps for driving Herald's web pages in `web-pages.test.ts`: each
 * wraps a Playwright call in an Effect whose failure names the step and shows
 * the page's problems and visible text, and every wait polls the page with a
 * generous limit (never a fixed sleep, never a check of wall time).
 */
import { Effect } from "effect"
import { join } from "node:path"
import type { Page } from "playwright-core"
import { artifactsDir, type OpenedPage } from "./WebSite.ts"

/** How long a wait on the page may take: generous, since CI machines are slow and the socket backs off. */
export const patience = 45_000

/** Runs one Playwright step; a failure says which step, what the page showed and what it logged. */
export const step = <A>(opened: OpenedPage, what: string, run: (page: Page) => Promise<A>): Effect.Effect<A, Error> =>
  Effect.tryPromise({
    try: () => run(opened.page),
    catch: (cause) => cause
  }).pipe(
    Effect.catch((cause) =>
      Effect.promise(() => opened.page.locator("body").innerText({ timeout: 2_000 }).catch(() => "(unreadable)")).pipe(
        Effect.flatMap((text) =>
          Effect.fail(
            new Error(
              `${what}: ${String(cause)}\n--- page text ---\n${text.slice(0, 2_000)}\n--- page problems ---\n${opened.problems.join("\n")}`
            )
          )
        )
      )
    )
  )

/** Waits until the element is visible. */
export const visible = (opened: OpenedPage, what: string, locate: (page: Page) => ReturnType<Page["locator"]>) =>
  step(opened, `waiting for ${what}`, (page) => locate(page).first().waitFor({ state: "visible", timeout: patience }))

/** The bell's accessible name, as a screen reader hears it. */
export const bellName = (unread: number) => unread === 0 ? "Notifications, none unread" : `Notifications, ${unread} unread`

/** Waits until the bell says `unread`. */
export const bellSays = (opened: OpenedPage, unread: number) =>
  visible(opened, `the bell to say ${bellName(unread)}`, (page) => page.getByRole("button", { name: bellName(unread), exact: true }))

/** The live status line of the center. */
export const statusSays = (opened: OpenedPage, text: string) =>
  visible(opened, `the live status "${text}"`, (page) => page.getByRole("status").filter({ hasText: text }))

/** Signs in with the development login form, and waits for the center to be live. */
export const devSignIn = (opened: OpenedPage, userId: string) =>
  Effect.gen(function*() {
    yield* step(opened, "filling the user id", (page) => page.getByLabel("User id").fill(userId, { timeout: patience }))
    yield* step(opened, "pressing Sign in", (page) => page.getByRole("button", { name: "Sign in" }).click())
    yield* visible(opened, `"Signed in as ${userId}"`, (page) => page.locator("#session").filter({ hasText: userId }))
  })

/** The titles of the center's list, top to bottom. */
export const listedTitles = (opened: OpenedPage) => step(opened, "reading the list", (page) => page.locator(".inbox .item-title").allInnerTexts())

/** How far the page scrolls sideways (0: it fits the viewport). */
export const sidewaysOverflow = (opened: OpenedPage) =>
  step(opened, "measuring the page width", (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth))

/** A full-page PNG under test/artifacts/. */
export const screenshot = (opened: OpenedPage, name: string) =>
  step(opened, `screenshot ${name}`, (page) => page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true }))

/** Only the page's own errors: a cut network makes Chromium log failed socket connections, which are expected. */
export const pageErrors = (opened: OpenedPage) => opened.problems.filter((problem) => problem.startsWith("pageerror"))
