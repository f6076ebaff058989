#!/bin/sh
# Runs a Herald task on the Node 24 and pnpm that the project pins in
# .tools/package.json, installing them (with the system npm) and the
# workspace's dependencies first when they are missing or out of date.
# Usage: scripts/run.sh start|test|herald|bench|bench-delivery|bench-cluster|bench-persist|bench-reconnect|fakes [args...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
say() { printf 'herald: %s\n' "$*" >&2; }

if ! command -v npm >/dev/null 2>&1; then
  say "npm is needed once to install the pinned Node 24 (any Node >= 18 with npm will do)"
  exit 1
fi
if [ ! -x "$tools/node_modules/.bin/node" ] || [ ! -x "$tools/node_modules/.bin/pnpm" ] ||
  ! cmp -s "$tools/package-lock.json" "$tools/node_modules/.herald-lock"; then
  say "installing the pinned Node and pnpm into .tools/ (first run only)"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$tools/package-lock.json" "$tools/node_modules/.herald-lock"
fi
PATH="$tools/node_modules/.bin:$PATH"
export PATH

if [ ! -d "$root/node_modules/.pnpm" ] || ! cmp -s "$root/pnpm-lock.yaml" "$root/node_modules/.pnpm/lock.yaml"; then
  say "installing dependencies"
  (cd "$root" && pnpm install --frozen-lockfile --reporter=append-only >&2)
fi

task=${1:-}
[ $# -gt 0 ] && shift
cd "$root"

# The web pages the server serves (packages/web/dist) are built before the server or the
# tests run, and again whenever a source they bundle (web, client, domain) is newer.
web_stale() {
  built="$root/packages/web/dist/index.html"
  [ ! -f "$built" ] && return 0
  [ -n "$(find "$root/packages/web" "$root/packages/client/src" "$root/packages/domain/src" \
    -path "$root/packages/web/dist" -prune -o -path "*/node_modules" -prune -o \
    -type f -newer "$built" -print 2>/dev/null | head -n 1)" ]
}
case "$task" in
  start|test)
    if web_stale; then
      say "building the web pages (packages/web)"
      pnpm --filter @herald/web build >&2
    fi ;;
esac
case "$task" in
  start)
    say "starting; once it is ready, try in another shell: ./herald tail --user alice  (then: ./herald send --user alice --kind mention --title hi)"
    exec node packages/server/src/bin.ts "$@" ;;
  herald) exec node packages/cli/src/bin.ts "$@" ;;
  test)
    # The browser tests drive Debian's Chromium; install it once where we can (root with apt).
    if [ ! -x /usr/bin/chromium ]; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian's chromium for the browser tests (once)"
        (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium) >&2
      else
        say "the browser tests need Chromium at /usr/bin/chromium (Debian: apt-get install chromium)"
      fi
    fi
    exec node scripts/test.ts "$@" ;;
  bench) exec node test/bench/compare.ts "$@" ;;
  bench-delivery) exec node test/bench/delivery.ts "$@" ;;
  bench-cluster) exec node test/bench/cluster.ts "$@" ;;
  bench-persist) exec node test/bench/persist.ts "$@" ;;
  bench-reconnect) exec node test/bench/reconnect-storm.ts "$@" ;;
  fakes) exec node test/fakes.ts "$@" ;;
  *) say "usage: scripts/run.sh start|test|herald|bench|bench-delivery|bench-cluster|bench-persist|bench-reconnect|fakes [args...]"; exit 2 ;;
esac
