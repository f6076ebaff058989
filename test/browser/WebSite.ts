/**
 * What `web-pages.test.ts` needs besides a Herald server: Herald's own web
 * pages (`packages/web`) built with their Vite config into a temp dir, which
 * the test server serves as its web dir, and Debian's Chromium to open them.
 *
 * As in `Chromium.ts`, the layer always builds: when the build or the
 * browser fails (or /usr/bin/chromium is missing), every `open` fails with
 * the reason, so the tests fail instead of being skipped.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { existsSync } from "node:fs"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser, BrowserContextOptions, Page } from "playwright-core"
import { build } from "vite"
import { repoRoot } from "../support/ServerProcess.ts"
import { chromiumPath, collectProblems, launch, missingChromium } from "./Chromium.ts"

export const webConfigFile = join(repoRoot, "packages/web/vite.config.ts")
/** Where the screenshots go (git-ignored). */
export const artifactsDir = join(repoRoot, "test/artifacts")

/** A page opened in its own browser context, with the page errors and console errors it produced. */
export interface OpenedPage {
  readonly page: Page
  readonly problems: ReadonlyArray<string>
}

/** Builds `packages/web` exactly as `pnpm --filter @herald/web build` does, but into `outDir`. */
const buildPages = (outDir: string) =>
  Effect.tryPromise({
    try: () => build({ configFile: webConfigFile, logLevel: "warn", build: { outDir, emptyOutDir: true } }),
    catch: (cause) => new Error(`could not build packages/web with Vite: ${String(cause)}`, { cause })
  })

const openIn = (browser: Browser) => (url: string, options: BrowserContextOptions = {}) =>
  Effect.gen(function*() {
    const context = yield* Effect.acquireRelease(
      Effect.promise(() => browser.newContext({ locale: "en-GB", timezoneId: "UTC", viewport: { width: 1280, height: 800 }, ...options })),
      (context) => Effect.promise(() => context.close())
    )
    const page = yield* Effect.promise(() => context.newPage())
    const problems = collectProblems(page)
    yield* Effect.tryPromise({
      try: () => page.goto(url, { waitUntil: "load" }),
      catch: (cause) => new Error(`could not load ${url}: ${String(cause)}`, { cause })
    })
    return { page, problems } satisfies OpenedPage
  })

export class WebSite extends Context.Service<WebSite, {
  /** The built pages, for the server's `webDir`. */
  readonly webDir: string
  /** Opens `url` in a fresh browser context (1280×800, en-GB, UTC unless `options` say otherwise), closed with the scope. */
  readonly open: (url: string, options?: BrowserContextOptions) => Effect.Effect<OpenedPage, Error, Scope.Scope>
}>()("@herald/test/browser/WebSite") {
  static readonly layer = Layer.effect(WebSite, Effect.gen(function*() {
    const webDir = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), "herald-web-"))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
    )
    yield* Effect.promise(() => mkdir(artifactsDir, { recursive: true }))
    const ready = Effect.gen(function*() {
      yield* buildPages(webDir)
      if (!existsSync(chromiumPath)) return yield* Effect.fail(missingChromium)
      return openIn(yield* launch)
    })
    return yield* ready.pipe(
      Effect.map((open) => WebSite.of({ webDir, open })),
      Effect.catch((error) => Effect.succeed(WebSite.of({ webDir, open: () => Effect.fail(error) })))
    )
  }))
}
