/**
 * The three pages as one Vite multi-page build: `vite build` writes
 * `dist/index.html`, `dist/preferences.html`, `dist/admin.html` and hashed
 * `dist/assets/*`, which the Herald server serves at `/`, `/preferences`,
 * `/admin` and `/assets/*`. The browser tests build it with this same file.
 */
import { fileURLToPath } from "node:url"
import { defineConfig } from "vite"

const page = (name: string) => fileURLToPath(new URL(`./${name}.html`, import.meta.url))

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  // Absolute asset URLs: `/preferences` is served from the root, not from a `preferences/` directory.
  base: "/",
  publicDir: false,
  envDir: false,
  logLevel: "warn",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Every browser that runs ES2022 modules knows modulepreload; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    // The server's CSP has no `data:` for scripts or fonts and nothing here is tiny enough to be worth inlining.
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: { index: page("index"), preferences: page("preferences"), admin: page("admin") },
      treeshake: {
        // `@herald/domain` and `@herald/client` only define schemas, RPC groups and services, but their
        // `class X extends RpcGroup.make(…)` look like side effects to a bundler, so every page would carry
        // every RPC group of the barrel (admin replays in the notification center). They have none.
        moduleSideEffects: [
          { test: /\/packages\/(domain|client)\/src\//, sideEffects: false },
          { test: /\.css$/, sideEffects: true }
        ]
      },
      output: {
        // Shared code would otherwise be named after whichever module came first (`format-….js`).
        chunkFileNames: "assets/shared-[hash].js",
        assetFileNames: (asset) => asset.names.some((name) => name.endsWith(".css")) ? "assets/styles-[hash][extname]" : "assets/[name]-[hash][extname]"
      }
    }
  }
})
