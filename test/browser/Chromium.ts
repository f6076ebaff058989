/**
 * What the browser tests need besides a Herald server: `page.ts` bundled by
 * Vite into a temp dir, served by a tiny static server on 127.0.0.1, and
 * Debian's Chromium driven by playwright-core. Everything is released when the
 * layer's scope closes (browser, static server, temp dir).
 *
 * No browser is ever downloaded: the system Chromium at /usr/bin/chromium is
 * required, and a missing one fails the tests (never skips them).
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { existsSync } from "node:fs"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { extname, join, normalize, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import { build } from "vite"

export const chromiumPath = "/usr/bin/chromium"

/** The page's uncaught errors and console errors and warnings, as they happen, so a failing test can show them. */
export const collectProblems = (page: Page): ReadonlyArray<string> => {
  const problems: Array<string> = []
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`))
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(`console.${message.type()}: ${message.text()}`)
  })
  return problems
}

const here = fileURLToPath(new URL(".", import.meta.url))

/** Bundles `index.html` + `page.ts` (and through them `@herald/client` and `effect`) for the browser into `outDir`. */
const bundle = (outDir: string) =>
  Effect.tryPromise({
    try: () =>
      build({
        configFile: false,
        root: here,
        base: "./",
        logLevel: "warn",
        publicDir: false,
        envDir: false,
        cacheDir: join(outDir, ".vite-cache"),
        build: {
          outDir: join(outDir, "site"),
          emptyOutDir: true,
          write: true,
          ssr: false,
          target: "es2022",
          minify: false,
          sourcemap: true,
          reportCompressedSize: false
        }
      }),
    catch: (cause) => new Error(`could not bundle test/browser/page.ts with Vite: ${String(cause)}`, { cause })
  }).pipe(Effect.as(join(outDir, "site")))

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8"
}

/** Serves `root` on 127.0.0.1 (port 0) until the scope closes; yields its base URL. */
const serveStatic = (root: string) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly url: string; readonly close: () => Promise<void> }, Error>((resume) => {
      const server = createServer((request, response) => {
        const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname
        const file = normalize(join(root, path === "/" ? "index.html" : decodeURIComponent(path)))
        if (file !== root && !file.startsWith(root + sep)) {
          response.writeHead(403).end()
          return
        }
        readFile(file).then(
          (body) => response.writeHead(200, { "content-type": contentTypes[extname(file)] ?? "application/octet-stream" }).end(body),
          () => response.writeHead(404).end()
        )
      })
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = address !== null && typeof address === "object" ? address.port : 0
        resume(Effect.succeed({
          url: `http://127.0.0.1:${port}/`,
          close: () =>
            new Promise<void>((done) => {
              server.closeAllConnections()
              server.close(() => done())
            })
        }))
      })
    }),
    (server) => Effect.promise(server.close)
  )

export const missingChromium = new Error(
  `the browser tests need Debian's Chromium at ${chromiumPath}, and it is missing. ` +
    "`npm test` (scripts/run.sh) installs it when run as root; otherwise: apt-get update && apt-get install -y chromium"
)

/** Debian's Chromium, headless, closed with the scope; `web-pages.test.ts` (WebSite.ts) launches it the same way. */
export const launch = Effect.acquireRelease(
  Effect.tryPromise({
    try: () =>
      chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-background-networking",
          "--disable-gpu",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run"
        ]
      }),
    catch: (cause) => new Error(`could not launch ${chromiumPath}: ${String(cause)}`, { cause })
  }),
  (browser: Browser) => Effect.promise(() => browser.close())
)

export class Chromium extends Context.Service<Chromium, {
  /**
   * A fresh page (own browser context) with the test page loaded, closed with the scope; page errors and
   * console errors are collected in `problems` so a failing test can show them.
   */
  readonly openPage: Effect.Effect<{ readonly page: Page; readonly problems: ReadonlyArray<string> }, Error, Scope.Scope>
}>()("@herald/test/browser/Chromium") {
  /**
   * Without Chromium (or when bundling or launching fails) the layer still builds and every `openPage`
   * fails with the reason: a layer that failed to build would only mark the tests skipped, and a missing
   * browser must fail them.
   */
  static readonly layer = Layer.effect(Chromium, Effect.gen(function*() {
    if (!existsSync(chromiumPath)) return Chromium.of({ openPage: Effect.fail(missingChromium) })
    const browser = yield* launch
    const dir = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), "herald-browser-"))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
    )
    const site = yield* bundle(dir)
    const { url: pageUrl } = yield* serveStatic(site)
    const openPage = Effect.gen(function*() {
      const context = yield* Effect.acquireRelease(
        Effect.promise(() => browser.newContext()),
        (context) => Effect.promise(() => context.close())
      )
      const page = yield* Effect.promise(() => context.newPage())
      const problems = collectProblems(page)
      yield* Effect.tryPromise({
        try: () => page.goto(pageUrl, { waitUntil: "load" }),
        catch: (cause) => new Error(`could not load ${pageUrl}: ${String(cause)}`, { cause })
      })
      // The module script has run once `window.herald` exists.
      yield* Effect.tryPromise({
        try: () => page.waitForFunction(() => typeof window.herald === "object", undefined, { timeout: 20_000 }),
        catch: (cause) => new Error(`the test page never set up window.herald: ${String(cause)}; ${problems.join("; ")}`, { cause })
      })
      return { page, problems }
    })
    return Chromium.of({ openPage })
  }).pipe(Effect.catch((error) => Effect.succeed(Chromium.of({ openPage: Effect.fail(error) })))))
}
