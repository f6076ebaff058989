/**
 * The stable bucket of a user: the first 32 bits of the MD5 of the user id,
 * modulo `BucketCount`. A user is in at P % when their bucket is below
 * P × BucketCount / 100, so raising P only ever adds users (sticky), and the
 * same bucket is computed in SQL (`bucketSql`) to count users in.
 */
import { BucketCount } from "@herald/domain"
import { hash } from "node:crypto"

// One-shot `hash` (no Hash object per call): this runs for every notification.
export const bucketOf = (userId: string): number =>
  hash("md5", userId, "buffer").readUInt32BE(0) % BucketCount

/** True when a user in `bucket` is inside `percentage`. */
export const inPercentage = (bucket: number, percentage: number): boolean =>
  bucket < Math.round(percentage * (BucketCount / 100))

/** The lowest percentage, in the flag's 0.01 % steps, that has a user in `bucket` in. */
export const lowestPercentageFor = (bucket: number): number => (bucket + 1) / (BucketCount / 100)

/** `bucketOf` in PostgreSQL, for a text column or expression. */
export const bucketSql = (column: string): string =>
  `(('x' || substr(md5(${column}), 1, 8))::bit(32)::bigint % ${BucketCount})`
