/**
 * A bad setting stops the server at start with one line naming the variable,
 * not a silent exit.
 */
import { assert, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { spawnServer } from "../support/ServerProcess.ts"

const cases: ReadonlyArray<readonly [Readonly<Record<string, string>>, string, string]> = [
  [{ HERALD_PORT: "abc" }, "HERALD_PORT", "number"],
  [{ HERALD_CLUSTER_FAILOVER: "2 seconds" }, "HERALD_CLUSTER_FAILOVER", "at least 5 seconds"],
  [{ HERALD_PUBLISH_TIMEOUT: "soon" }, "HERALD_PUBLISH_TIMEOUT", "Duration"],
  [{ HERALD_DEV_LOGIN: "maybe" }, "HERALD_DEV_LOGIN", "\"true\" | \"yes\""]
]

for (const [env, variable, says] of cases) {
  it.live(`${variable}=${Object.values(env)[0]} stops the start with a message naming it`, () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(spawnServer({ HERALD_DATA_DIR: "/nonexistent/never-used", ...env }))
      assert.isTrue(Exit.isFailure(exit), "the server does not start")
      const output = Exit.isFailure(exit) ? String(exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error.message : "") : ""
      assert.include(output, "cannot start")
      assert.include(output, variable)
      assert.include(output, says)
      assert.include(output, "exited with 1")
    }).pipe(Effect.scoped))
}
