/**
 * The pieces of `herald replay` that need no server: times as typed, the
 * resume token, the progress line and the summary.
 */
import { assert, describe, it } from "@effect/vitest"
import { resolveTime, TimeInput } from "@herald/cli/src/FilterFlags.ts"
import { progressBar, progressText } from "@herald/cli/src/Progress.ts"
import { summaryLines } from "@herald/cli/src/ReplayFormat.ts"
import { decodeToken, encodeToken, type ReplayToken } from "@herald/cli/src/ReplayToken.ts"
import { emptyReplayCounts } from "@herald/domain"
import { DateTime, Effect, Exit, Schema } from "effect"

const isTime = (text: string) => Exit.isSuccess(Schema.decodeUnknownExit(TimeInput)(text))

describe("replay times", () => {
  it("accepts ISO instants with a zone and spans back from now, nothing else", () => {
    for (const good of ["2026-11-30T10:00:00Z", "2026-11-30T10:00Z", "2026-11-30T10:00:00.250+01:00", "90s", "30m", "2h", "7d"]) {
      assert.isTrue(isTime(good), good)
    }
    for (const bad of ["yesterday", "2026-11-30", "2026-11-30T10:00:00", "2h30m", "-2h", "2w", "2026-13-45T10:00:00Z"]) {
      assert.isFalse(isTime(bad), bad)
    }
  })

  it("resolves spans against now and instants as they are", () => {
    const now = Date.parse("2026-12-01T12:00:00Z")
    assert.strictEqual(resolveTime("2h", now), "2026-12-01T10:00:00.000Z")
    assert.strictEqual(resolveTime("7d", now), "2026-11-24T12:00:00.000Z")
    assert.strictEqual(resolveTime("90s", now), "2026-12-01T11:58:30.000Z")
    assert.strictEqual(resolveTime("2026-11-30T10:00:00+01:00", now), "2026-11-30T09:00:00.000Z")
  })
})

describe("replay token", () => {
  const token: ReplayToken = {
    v: 1,
    run: { replayId: "01a2333d-333f-73c4-9d79-d6dc1dbd141b", upToDelivery: 6000, upTo: DateTime.makeUnsafe("2026-12-01T20:13:08.070Z") },
    selection: { channel: "push", status: "dead", since: DateTime.makeUnsafe("2026-12-01T18:00:00Z") },
    force: true,
    position: { phase: "deliveries", after: 2500 },
    done: { ...emptyReplayCounts, selected: 2500, delivered: 2400, failed: 100 },
    planned: 6000
  }

  it.effect("round-trips through its text", () =>
    Effect.gen(function*() {
      const text = encodeToken(token)
      assert.match(text, /^hr1\.[A-Za-z0-9_-]+$/, "URL-safe, one word on a command line")
      const back = yield* decodeToken(text)
      assert.deepStrictEqual(back.position, token.position)
      assert.deepStrictEqual(back.done, token.done)
      assert.isTrue(back.force)
      assert.strictEqual(DateTime.formatIso(back.run.upTo), "2026-12-01T20:13:08.070Z")
    }))

  it.effect("refuses text that is not a token, saying so", () =>
    Effect.gen(function*() {
      for (const bad of ["nonsense", "hr1.", "hr1.e30", `hr1.${Buffer.from('{"v":2}').toString("base64url")}`]) {
        const error = yield* Effect.flip(decodeToken(bad))
        assert.include(error.message, "--resume: not a replay token", bad)
      }
    }))
})

describe("replay progress and summary", () => {
  it("shows done of total, the counts, the rate and what is left", () => {
    assert.strictEqual(
      progressText({ done: 4500, total: 10_000, delivered: 4400, failed: 0, skipped: 100, rate: 812.4 }),
      "4,500/10,000 45%  delivered 4,400  failed 0  skipped 100  812/s  ETA 7s"
    )
    assert.strictEqual(progressBar(5, 10, 10), "[#####·····]")
    assert.strictEqual(progressBar(0, 0, 4), "[####]", "nothing to do is done")
  })

  it("ends with a table, and says how to resume when stopped", () => {
    const counts = { selected: 10, delivered: 6, failed: 1, queued: 1, skipped: 2, forced: 0 }
    const done = summaryLines({ counts, complete: true, resume: null, seconds: 1.24 }, false)
    assert.deepStrictEqual(done.slice(0, 3), [
      "SELECTED  DELIVERED  FAILED  QUEUED  SKIPPED  FORCED",
      "10        6          1       1       2        0",
      "replay complete in 1.2 s"
    ])
    assert.isTrue(done.some((line) => line.includes("--force sends them again")))
    const stopped = summaryLines({ counts, complete: false, resume: "hr1.abc", seconds: 3 }, true)
    assert.include(stopped[2], "resume with: herald replay --resume hr1.abc")
    assert.isFalse(stopped.some((line) => line.includes("--force sends them again")), "no --force hint when forced")
  })
})
