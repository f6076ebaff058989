/**
 * The web UI from `HERALD_WEB_DIR`: the three pages as `no-cache` HTML with
 * a strict Content-Security-Policy, `/assets/…` with their content types and
 * a year's immutable caching, HEAD as well as GET; no path that climbs out of
 * `assets/` (raw `..`, percent-encoded, backslashes, absolute) reaches a
 * file; and without a build, 503 saying how to build it.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { request as httpRequest } from "node:http"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { testDatabase } from "../support/TestDatabase.ts"
import { testServer } from "../support/TestServer.ts"

const Csp = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
const Secret = "TOP-SECRET-OUTSIDE-THE-WEB-DIR"

interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly body: string
}

/** A request with the path sent exactly as given (fetch would resolve `..` first). */
const raw = (port: number, path: string, method = "GET") =>
  Effect.callback<Answer>((resume) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, body })))
    })
    req.on("error", (error) => resume(Effect.die(error)))
    req.end()
  })

/** A fake build: the pages, some assets, and a secret next to (not inside) the web dir. */
const fakeBuild = (pages: ReadonlyArray<string>) => {
  const root = mkdtempSync(join(tmpdir(), "herald-web-"))
  const dir = join(root, "dist")
  mkdirSync(join(dir, "assets", "fonts"), { recursive: true })
  for (const page of pages) writeFileSync(join(dir, page), `<!doctype html><title>${page}</title>`)
  writeFileSync(join(dir, "assets", "index-3f9a1c.js"), "console.log('herald')")
  writeFileSync(join(dir, "assets", "index-3f9a1c.css"), "body{margin:0}")
  writeFileSync(join(dir, "assets", "logo.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>")
  writeFileSync(join(dir, "assets", "fonts", "inter.woff2"), "woff2")
  writeFileSync(join(root, "secret.txt"), Secret)
  writeFileSync(join(dir, ".env"), Secret)
  return dir
}

const serverOn = (webDir: string) =>
  Effect.flatMap(testDatabase, (database) => testServer({ databaseUrl: database.url, webDir }))

it.live("pages are no-cache HTML with the CSP, assets are typed and immutable, HEAD answers the same headers, and nothing climbs out", () =>
  Effect.gen(function*() {
    const server = yield* serverOn(fakeBuild(["index.html", "preferences.html", "admin.html"]))

    for (const [route, file] of [["/", "index.html"], ["/preferences", "preferences.html"], ["/admin", "admin.html"], ["/?next=1", "index.html"]] as const) {
      const page = yield* raw(server.port, route)
      assert.strictEqual(page.status, 200, route)
      assert.include(page.body, `<title>${file}</title>`, route)
      assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8", route)
      assert.strictEqual(page.headers["cache-control"], "no-cache", route)
      assert.strictEqual(page.headers["content-security-policy"], Csp, route)
    }
    const head = yield* raw(server.port, "/admin", "HEAD")
    assert.strictEqual(head.status, 200)
    assert.strictEqual(head.body, "")
    assert.strictEqual(head.headers["content-type"], "text/html; charset=utf-8")
    assert.strictEqual(head.headers["content-length"], String("<!doctype html><title>admin.html</title>".length))

    for (const [path, type] of [
      ["/assets/index-3f9a1c.js", "text/javascript; charset=utf-8"],
      ["/assets/index-3f9a1c.css", "text/css; charset=utf-8"],
      ["/assets/logo.svg", "image/svg+xml"],
      ["/assets/fonts/inter.woff2", "font/woff2"],
      ["/assets/index%2D3f9a1c.js", "text/javascript; charset=utf-8"]
    ] as const) {
      const asset = yield* raw(server.port, path)
      assert.strictEqual(asset.status, 200, path)
      assert.strictEqual(asset.headers["content-type"], type, path)
      assert.strictEqual(asset.headers["cache-control"], "public, max-age=31536000, immutable", path)
      assert.strictEqual(asset.headers["x-content-type-options"], "nosniff", path)
    }
    const headAsset = yield* raw(server.port, "/assets/index-3f9a1c.js", "HEAD")
    assert.strictEqual(headAsset.status, 200)
    assert.strictEqual(headAsset.body, "")
    assert.strictEqual(headAsset.headers["content-type"], "text/javascript; charset=utf-8")

    for (
      const path of [
        "/assets/../secret.txt",
        "/assets/../../package.json",
        "/assets/../../../../../../etc/passwd",
        "/assets/%2e%2e/secret.txt",
        "/assets/%2E%2E/secret.txt",
        "/assets/.%2e/secret.txt",
        "/assets/%2e%2e%2fsecret.txt",
        "/assets/..%2f..%2fpackage.json",
        "/assets/fonts/../../secret.txt",
        "/assets/..\\secret.txt",
        "/assets/%5c..%5csecret.txt",
        "/assets/%2fetc%2fpasswd",
        "/assets//etc/passwd",
        "/assets/../.env",
        "/assets/%2e%2e/.env",
        "/assets/%00index-3f9a1c.js",
        "/assets/%E0%A4%A",
        "/assets/",
        "/assets/fonts"
      ]
    ) {
      const refused = yield* raw(server.port, path)
      assert.strictEqual(refused.status, 404, `${path}: ${refused.body}`)
      assert.notInclude(refused.body, Secret, path)
      assert.notInclude(refused.body, "\"name\"", path)
      assert.notInclude(refused.body, "root:", path)
    }
    assert.strictEqual((yield* raw(server.port, "/assets/missing-123.js")).status, 404)
    assert.strictEqual((yield* raw(server.port, "/", "POST")).status, 405)
    assert.strictEqual((yield* raw(server.port, "/assets/logo.svg", "DELETE")).status, 405)
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("without a build the pages and assets answer 503 saying how to build the web UI", () =>
  Effect.gen(function*() {
    const missing = join(mkdtempSync(join(tmpdir(), "herald-web-")), "not-built")
    const server = yield* serverOn(missing)
    for (const path of ["/", "/preferences", "/admin", "/assets/index-3f9a1c.js"]) {
      const answer = yield* raw(server.port, path)
      assert.strictEqual(answer.status, 503, path)
      assert.match(String(answer.headers["content-type"]), /^text\/plain/, path)
      assert.include(answer.body, "not built", path)
      assert.include(answer.body, "pnpm --filter @herald/web build", path)
      assert.notInclude(answer.body, missing, "the server's directories are not shown to visitors")
    }
    assert.strictEqual((yield* raw(server.port, "/healthz")).status, 200, "the rest of the server runs")
  }).pipe(Effect.scoped), { timeout: 60_000 })

it.live("a build without one of the pages serves the others and 503 for that one", () =>
  Effect.gen(function*() {
    const server = yield* serverOn(fakeBuild(["index.html"]))
    assert.strictEqual((yield* raw(server.port, "/")).status, 200)
    const admin = yield* raw(server.port, "/admin")
    assert.strictEqual(admin.status, 503)
    assert.include(admin.body, "admin.html")
    assert.strictEqual((yield* raw(server.port, "/assets/missing-123.js")).status, 404, "a built dir answers 404 for an unknown asset")
  }).pipe(Effect.scoped), { timeout: 60_000 })
