/**
 * Serves the built web UI (`packages/web`, built into `HERALD_WEB_DIR`):
 * the pages `/` (index.html), `/preferences` and `/admin`, and the files
 * under `/assets/`.
 *
 * - Pages are `no-cache` (a new build shows at the next load) and carry a
 *   strict Content-Security-Policy: scripts, styles and connections only
 *   from this origin (plus its sockets), no framing.
 * - Assets have content-hashed names, so they are cached for a year,
 *   `immutable`.
 * - An asset name is decoded once (percent-decoding included) and must be
 *   plain path segments of letters, digits and `. _ ~ -` that do not start
 *   with a dot: `..`, `%2e%2e`, backslashes and hidden files never name
 *   anything, and the resolved path is checked to stay inside `assets/`.
 * - Without a build (the directory or a page missing) the answer is 503
 *   with a line saying how to build it, rather than a bare 404.
 *
 * Files are read per request: they are small, and a rebuild needs no restart.
 */
import { Effect, FileSystem, Path, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { problem } from "./Problem.ts"

export type WebPage = "/" | "/preferences" | "/admin"

const pageFiles: Record<WebPage, string> = {
  "/": "index.html",
  "/preferences": "preferences.html",
  "/admin": "admin.html"
}

const ContentSecurityPolicy =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".wasm": "application/wasm"
}

const Segment = "[A-Za-z0-9_~-][A-Za-z0-9._~-]*"

/** The part of an `/assets/…` URL after the prefix, percent-decoded, as a safe relative path. */
const AssetName = Schema.StringFromUriComponent.pipe(
  Schema.check(
    Schema.isMaxLength(512),
    Schema.isPattern(new RegExp(`^${Segment}(?:/${Segment})*$`), {
      description: "path segments of letters, digits and . _ ~ - not starting with a dot"
    })
  )
)
const decodeAssetName = Schema.decodeUnknownOption(AssetName)

/** `missing` is relative to the web directory: the absolute path is for the server's log, not for visitors. */
const notBuilt = (missing: string) =>
  HttpServerResponse.text(
    `The web UI is not built (no ${missing} in the web directory): run \`pnpm --filter @herald/web build\`, or set HERALD_WEB_DIR to a built one.\n`,
    { status: 503, headers: { "cache-control": "no-store" } }
  )

export const makeWebAssets = Effect.gen(function*() {
  const config = yield* HeraldConfig
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const assetsDir = path.join(config.webDir, "assets")

  const readable = (file: string) => fs.readFile(file).pipe(Effect.option)

  const methodAllowed = Effect.map(
    HttpServerRequest.HttpServerRequest,
    (request) => request.method === "GET" || request.method === "HEAD"
  )
  const methodRefused = problem(405, "MethodNotAllowed", "web pages and assets are GET or HEAD requests")

  const page = Effect.fn("WebAssets.page")(function*(route: WebPage) {
    if (!(yield* methodAllowed)) return methodRefused
    const body = yield* readable(path.join(config.webDir, pageFiles[route]))
    if (body._tag === "None") return notBuilt(pageFiles[route])
    return HttpServerResponse.uint8Array(body.value, {
      contentType: "text/html; charset=utf-8",
      headers: {
        "cache-control": "no-cache",
        "content-security-policy": ContentSecurityPolicy,
        "x-content-type-options": "nosniff"
      }
    })
  })

  /** `encodedName` is the raw URL path after `/assets/`. */
  const asset = Effect.fn("WebAssets.asset")(function*(encodedName: string) {
    if (!(yield* methodAllowed)) return methodRefused
    const name = decodeAssetName(encodedName)
    if (name._tag === "None") return problem(404, "NotFound", "no such asset")
    const file = path.resolve(assetsDir, name.value)
    // The name's pattern already keeps it inside; this holds even if the pattern were loosened.
    if (!file.startsWith(assetsDir + path.sep)) return problem(404, "NotFound", "no such asset")
    const body = yield* readable(file)
    if (body._tag === "None") {
      const built = yield* fs.exists(config.webDir).pipe(Effect.orElseSucceed(() => false))
      return built ? problem(404, "NotFound", "no such asset") : notBuilt(`assets/${name.value}`)
    }
    return HttpServerResponse.uint8Array(body.value, {
      contentType: contentTypes[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      headers: {
        "cache-control": "public, max-age=31536000, immutable",
        "x-content-type-options": "nosniff"
      }
    })
  })

  return { page, asset }
})
