/**
 * Bucketing of the rollout flag: sticky (raising the percentage never takes
 * a user out), the same in SQL as in TypeScript, and the real share of users
 * in within ±1 % of the percentage.
 */
import { assert, describe, it } from "@effect/vitest"
import { bucketOf, bucketSql, inPercentage } from "@herald/server/rollout/Bucket"
import { Effect, Schema } from "effect"
import { query, testDatabase } from "../support/TestDatabase.ts"

const Hundredths = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10_000 }))
const UserIds = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200))

describe("rollout buckets", () => {
  it.prop("raising the percentage keeps every user who was in", { userId: UserIds, a: Hundredths, b: Hundredths }, ({ a, b, userId }) => {
    const [low, high] = a <= b ? [a / 100, b / 100] : [b / 100, a / 100]
    const bucket = bucketOf(userId)
    return !inPercentage(bucket, low) || inPercentage(bucket, high)
  })

  it.prop("0 % lets nobody in and 100 % everybody", { userId: UserIds }, ({ userId }) =>
    !inPercentage(bucketOf(userId), 0) && inPercentage(bucketOf(userId), 100))

  it("over 100,000 ids, the share in at 5, 25 and 50 % is within ±1 % of it", () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `user-${i}`)
    const buckets = ids.map(bucketOf)
    for (const percentage of [5, 25, 50]) {
      const share = (buckets.filter((bucket) => inPercentage(bucket, percentage)).length / ids.length) * 100
      assert.approximately(share, percentage, 1, `${percentage} %: ${share.toFixed(3)} % in`)
    }
  })

  it.live("PostgreSQL computes the same bucket (used to count users in)", () =>
    Effect.gen(function*() {
      const database = yield* testDatabase
      const ids = ["alice", "bob", "ünïcødé-user", "user-42", "x".repeat(200), "01a20cfb-0672-7575-b627-e820bf947d3a"]
      const rows = yield* query<{ id: string; bucket: string }>(
        database.url,
        `SELECT id, ${bucketSql("id")}::text AS bucket FROM unnest($1::text[]) AS id`,
        [ids]
      )
      assert.deepStrictEqual(rows.map((row) => Number(row.bucket)), ids.map(bucketOf))
    }).pipe(Effect.scoped))
})
