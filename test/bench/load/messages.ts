/**
 * What the comparison benchmark and its load generator processes say to
 * each other over Node's IPC channel, as Schemas: every message is decoded
 * where it arrives, so a mismatch between the two sides fails loudly instead
 * of producing wrong figures. Times are on the shared monotonic clock
 * (`clock.ts`), so they compare across processes.
 *
 * Sockets (`sockets.ts`): prepare → prepared, open → opened, progress (every
 * 200 ms, unasked), report → receipts, close (it exits).
 * Publisher (`publish.ts`): publish → warmed, go → published.
 */
import { Schema } from "effect"

/** How a generator's sockets speak: Herald's protocol (docs/protocol.md), bare ws, or Socket.IO. */
export const Protocol = Schema.Literals(["herald", "ws", "socketio"])
export type Protocol = typeof Protocol.Type

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

export const Prepare = Schema.TaggedStruct("prepare", {
  protocol: Protocol,
  /** Socket `i` of this generator dials `urls[i % urls.length]`. */
  urls: Schema.Array(Schema.String),
  /** This generator's users are `bench-u<firstUser>` … `bench-u<firstUser + users - 1>`, one socket each. */
  firstUser: Count,
  users: Count,
  /** Every user in the run: publish `i` goes to `bench-u<i % totalUsers>`. */
  totalUsers: Count,
  /** Herald's client token secret (unused by the competitors, which have no auth). */
  tokenSecret: Schema.String,
  concurrency: Count,
  timeoutMs: Count,
  /** Publish `i` carries the id `prefix + i`; `prefix + "w" + j` are warm-up publishes, counted apart. */
  prefix: Schema.String,
  publishes: Count
})
export const Open = Schema.TaggedStruct("open", {})
export const Report = Schema.TaggedStruct("report", {})
export const Close = Schema.TaggedStruct("close", {})
export const ToSockets = Schema.Union([Prepare, Open, Report, Close])
export type ToSockets = typeof ToSockets.Type

export const Prepared = Schema.TaggedStruct("prepared", {})
export const Opened = Schema.TaggedStruct("opened", {
  sockets: Count,
  failures: Count,
  failureCodes: Schema.Record(Schema.String, Schema.Number),
  firstFailure: Schema.NullOr(Schema.String),
  startedAt: Schema.Number,
  endedAt: Schema.Number,
  /** Per socket that got ready: from dialling to ready (`synced` for Herald). */
  connectMs: Schema.Array(Schema.Number)
})
export const Progress = Schema.TaggedStruct("progress", { received: Count, lastAt: Schema.Number })
export const Receipts = Schema.TaggedStruct("receipts", {
  /** Publish indices received (first copy), and when. */
  indices: Schema.Array(Count),
  at: Schema.Array(Schema.Number),
  /** Frames of a publish already received on this socket. */
  wireDuplicates: Count,
  /** ...that a Herald client would also emit to the app (its cursor rule did not drop them). */
  appDuplicates: Count,
  misdelivered: Count,
  unmatched: Count,
  warmupFrames: Count,
  open: Count,
  closedUnexpectedly: Count,
  errorFrames: Count,
  cpuSeconds: Schema.Number
})
export const FromSockets = Schema.Union([Prepared, Opened, Progress, Receipts])
export type FromSockets = typeof FromSockets.Type

/** Where the publisher sends: Herald's Notify RPC on each node, or the competitors' `POST /publish`. */
export const Target = Schema.Union([
  Schema.TaggedStruct("herald", { urls: Schema.Array(Schema.String), apiKey: Schema.String }),
  Schema.TaggedStruct("http", { urls: Schema.Array(Schema.String) })
])
export type Target = typeof Target.Type

export const Publish = Schema.TaggedStruct("publish", {
  target: Target,
  totalUsers: Count,
  count: Count,
  ratePerSecond: Count,
  maxInFlight: Count,
  prefix: Schema.String,
  warmup: Count,
  /** Publishes started in the same tick go out in one call of at most this many (1: one call per publish). */
  publishBatch: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  /** Herald only: each client's `maxNotifyCallsInFlight`; null: the client's default. */
  clientCallsInFlight: Schema.NullOr(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)))
})
export const Go = Schema.TaggedStruct("go", {})
export const ToPublisher = Schema.Union([Publish, Go])
export type ToPublisher = typeof ToPublisher.Type

export const Warmed = Schema.TaggedStruct("warmed", { failures: Count })
export const Published = Schema.TaggedStruct("published", {
  /** When each publish started, and 1 where it was accepted (2xx, or Notify succeeded, retries included). */
  startedAt: Schema.Array(Schema.Number),
  ok: Schema.Array(Schema.Literals([0, 1])),
  callMs: Schema.Array(Schema.Number),
  lagMs: Schema.Array(Schema.Number),
  failuresByTag: Schema.Record(Schema.String, Schema.Number),
  /** Failed attempts that were repeated, per publish, by error tag (Herald only: `StorageUnavailable` when Notify timed out, …). */
  retriesByTag: Schema.Record(Schema.String, Schema.Number),
  sendSpanMs: Schema.Number,
  maxInFlightSeen: Count,
  /** Calls the measured publishes went out in (retries not counted), and the most publishes one carried. */
  calls: Count,
  largestCall: Count,
  /** HTTP requests the measured publishes went out in, retries included: below `calls` where Herald's client merged calls. */
  requests: Count,
  cpuSeconds: Schema.Number
})
export const FromPublisher = Schema.Union([Warmed, Published])
export type FromPublisher = typeof FromPublisher.Type

/** User `i` of a run; publish `i` goes to `userName(i % totalUsers)`. */
export const userName = (i: number): string => `bench-u${i}`
