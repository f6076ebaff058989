/**
 * The whole test command: a typecheck of every package, then every Vitest
 * suite, then one summary line (`N passed, N failed`) that CI reads.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const packages = ["packages/domain", "packages/server", "packages/client", "packages/cli", "packages/web", "test"]
const tsc = join("node_modules", "typescript", "bin", "tsc")

for (const dir of packages) {
  process.stderr.write(`typecheck ${dir}\n`)
  const result = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { stdio: "inherit" })
  if (result.status !== 0) {
    process.stderr.write(`typecheck failed in ${dir}\n`)
    process.exit(1)
  }
}

const report = join(mkdtempSync(join(tmpdir(), "herald-test-")), "vitest.json")
const vitest = spawnSync(
  process.execPath,
  [join("test", "node_modules", "vitest", "vitest.mjs"), "run", "--root", "test", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: "inherit" }
)
let summary = "0 passed, 0 failed"
try {
  const json: { numPassedTests: number; numFailedTests: number; numPendingTests: number } = JSON.parse(readFileSync(report, "utf8"))
  summary = `${json.numPassedTests} passed, ${json.numFailedTests} failed, ${json.numPendingTests} skipped`
} catch {
  summary = "0 passed, 1 failed"
}
process.stdout.write(`\ntests: ${summary}\n`)
process.exit(vitest.status ?? 1)
