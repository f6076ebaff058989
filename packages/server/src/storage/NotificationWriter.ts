/**
 * Publishes written to PostgreSQL in batches across users (group commit).
 *
 * Every publish joins one queue; a few writers each take whatever has queued
 * while their previous statement ran and store it with one read of the
 * users' preferences (which route the items) and one insert
 * (`PublishStatements`). An idle server so writes a publish at once,
 * and a busy one costs the database two statements per batch rather than
 * two per notification. Each caller still waits for its own publish, a user's
 * earlier publish is never written after a later one taken with it, and a
 * user appears at most once per statement.
 *
 * Idempotency keys are not looked up first: a fresh publish, the usual case,
 * would find nothing. A statement is all or nothing, so one whose rows
 * collide on a unique constraint (a key stored before, or an id stored by an
 * earlier attempt whose reply was lost) stored nothing; its batch is written
 * again with the stored rows looked up first, and if that collides too (a
 * key stored in the meantime) its publishes are written one by one, so each
 * gets its own answer and nothing is stored twice. A collision costs a failed
 * statement (and a line in PostgreSQL's log); it happens only on a retry.
 */
import { type NotificationKind, type Preferences, StorageUnavailable, type UserId } from "@herald/domain"
import { Array as Arr, Context, DateTime, Deferred, Effect, Exit, Layer, Metric, Option, Queue, Cause, type Schema, type Tracer } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { planPublish, type Published, type PublishItem, type Route, settlePlan } from "./PublishPlan.ts"
import { publishBatchRows, publishPreferencesStale } from "../telemetry/Metrics.ts"
import type { VersionedPreferences } from "./PreferencesCache.ts"
import { insertRows, lookupEarlier, type UserRows } from "./PublishStatements.ts"
import { UserRepo } from "./UserRepo.ts"

/** How a user's items are routed, decided from the user's preferences as the batch read them. */
export interface Routing {
  /** Where each kind goes: the user's sockets, a push row per device, an email row. */
  readonly route: (kind: NotificationKind) => Route
  /** When the user's next digest is due, asked only when an item goes to the digest (kept if one is already due). */
  readonly digestDueAt: () => Date
}

export interface PublishRequest {
  readonly userId: UserId
  readonly items: ReadonlyArray<PublishItem>
  readonly routing: (preferences: Preferences) => Routing
  /** The publish's trace, kept with the rows so later sends continue it. */
  readonly traceParent: string | null
}

/** A publish's answer, with the route its rows were stored by (the fan-out follows it). */
export interface Stored extends Published {
  readonly route: (kind: NotificationKind) => Route
}

interface Pending {
  readonly request: PublishRequest
  readonly done: Deferred.Deferred<Stored, StorageUnavailable>
  /** The publish's span: the batch's span links to every publish it wrote. */
  readonly span: Option.Option<Tracer.AnySpan>
}

// Enough statements in flight to keep the database busy while a batch is being planned, well
// inside the pool's 20 connections, which reads and acks share.
const Writers = 4
const MaxPublishesPerTake = 512
// Bounds what one statement binds (its columns go as arrays) and how long it holds the users' row locks.
const MaxRowsPerStatement = 2_000
// A publish whose user's preferences change between its read and its insert this many times
// running fails retryable rather than waiting on them.
const MaxRoutingAttempts = 5

/** The answer of a publish whose preferences changed since they were read: nothing was stored. */
const stale = Symbol("stale")
type Stale = typeof stale

export class NotificationWriter extends Context.Service<NotificationWriter, {
  /**
   * Stores each request's items (one user per request, each user once) and answers each
   * request's outcome in the requests' order: a user's items are stored atomically, items whose
   * idempotency key was seen come back deduplicated, and one request failing (its statement
   * did) does not hide that others were stored.
   */
  publish(requests: ReadonlyArray<PublishRequest>): Effect.Effect<ReadonlyArray<Exit.Exit<Stored, StorageUnavailable>>>
}>()("@herald/server/storage/NotificationWriter") {
  static readonly layer = Layer.effect(NotificationWriter, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const userRepo = yield* UserRepo
    const queue = yield* Queue.unbounded<Pending>()

    // `lookup` is false on a batch's first attempt: the insert itself finds what was stored
    // before, by failing on a unique constraint, and only then are the keys and ids looked up.
    const write = Effect.fnUntraced(function*(
      batch: Arr.NonEmptyReadonlyArray<PublishRequest>,
      prefsByUser: ReadonlyMap<UserId, VersionedPreferences>,
      lookup: boolean
    ) {
      const now = yield* DateTime.now
      const earlier = lookup
        ? yield* lookupEarlier(sql, keysOf(batch), batch.flatMap(({ items }) => items.map(({ id }) => id)))
        : []
      const earlierByUser = Arr.groupBy(earlier, (n) => n.userId)
      // routingPreferencesOf answers every user asked (the defaults for a user with no row).
      const planned = yield* Effect.forEach(batch, (request) =>
        Effect.map(Effect.orDie(Effect.fromNullishOr(prefsByUser.get(request.userId))), ({ preferences, version }) => ({
          request,
          version,
          routing: request.routing(preferences),
          plan: planPublish(request.userId, request.items, earlierByUser[request.userId] ?? [], now)
        })))
      const users: Array<UserRows> = []
      for (const { plan, request, routing, version } of planned) {
        if (plan.fresh.length === 0) continue
        const rows = plan.fresh.map((notification) => ({ notification, route: routing.route(notification.kind) }))
        const toDigest = rows.some(({ route }) => route.email === "digest")
        users.push({
          userId: plan.userId,
          rows,
          digestDueAt: toDigest ? routing.digestDueAt() : null,
          traceParent: request.traceParent,
          preferencesVersion: version
        })
      }
      const inserted = users.length > 0 ? yield* insertRows(sql, users) : []
      if (users.length > 0) yield* Metric.update(publishBatchRows, users.reduce((sum, { rows }) => sum + rows.length, 0))
      const byUser = new Map(inserted.map((row) => [row.userId, row]))
      // A user with fresh rows but no answer was routed by preferences changed since: nothing
      // of theirs was stored.
      return planned.map(({ plan, routing }): Stored | Stale => {
        const row = byUser.get(plan.userId)
        if (row === undefined && plan.fresh.length > 0) return stale
        const published = settlePlan(plan, row?.first ?? 1, row?.deliveries ?? 0, row?.previousInApp ?? 0)
        return { ...published, route: routing.route }
      })
    })

    const complete = (pending: Pending, exit: Exit.Exit<Stored, StorageUnavailable>) => Deferred.doneUnsafe(pending.done, exit)

    const writePack = (pack: Arr.NonEmptyReadonlyArray<Pending>) =>
      writePackUntraced(pack).pipe(Effect.withSpan("NotificationWriter.batch", {
        attributes: { "herald.publishes": pack.length },
        links: pack.flatMap(({ span }) => Option.isSome(span) ? [{ span: span.value, attributes: {} }] : [])
      }, { captureStackTrace: false }))

    // Most users' preferences come from memory; the insert refuses the rows of a user whose
    // preferences changed since (on any node), and only those are read again and written again.
    const writePackUntraced = Effect.fnUntraced(function*(pack: Arr.NonEmptyReadonlyArray<Pending>) {
      let prefs = yield* Effect.exit(userRepo.routingPreferencesOf(pack.map(({ request }) => request.userId)))
      let left: ReadonlyArray<Pending> = pack
      for (let attempt = 1; Arr.isReadonlyArrayNonEmpty(left); attempt++) {
        if (Exit.isFailure(prefs)) {
          const failure = Exit.failCause(prefs.cause)
          return left.forEach((pending) => complete(pending, failure))
        }
        if (attempt > MaxRoutingAttempts) {
          const failure = Exit.fail(
            new StorageUnavailable({
              message: "the user's preferences kept changing while the publish was stored; retry with the same idempotency keys",
              retryable: true
            })
          )
          return left.forEach((pending) => complete(pending, failure))
        }
        const staleOnes = yield* writeRouted(left, prefs.value)
        if (staleOnes.length > 0) {
          yield* Metric.update(publishPreferencesStale, staleOnes.length)
          prefs = yield* Effect.exit(userRepo.reloadRoutingPreferencesOf(staleOnes.map(({ request }) => request.userId)))
        }
        left = staleOnes
      }
    })

    // Answers every publish of `pack` but those routed by stale preferences, which it returns.
    // A pack written again after a collision keeps the preferences read for it: read before the
    // lookup, never in flight with it (together they cost PostgreSQL more CPU and an idle server
    // about 1 ms more at p50, measured with pnpm bench at 500/s).
    const writeRouted = Effect.fnUntraced(function*(
      pack: Arr.NonEmptyReadonlyArray<Pending>,
      prefs: ReadonlyMap<UserId, VersionedPreferences>
    ) {
      const requests = Arr.map(pack, ({ request }) => request)
      const first = yield* Effect.exit(write(requests, prefs, false))
      // A collision (a key or an id stored before: a retry) rolled the whole statement back;
      // the pack is written again with what was stored looked up. Only when that collides too
      // (another node stored one of the keys in between) is each publish written on its own.
      const exit = collided(first) ? yield* Effect.exit(write(requests, prefs, true)) : first
      const staleOnes: Array<Pending> = []
      const settle = (pending: Pending, written: Exit.Exit<ReadonlyArray<Stored | Stale>, StorageUnavailable>, index: number) => {
        if (Exit.isFailure(written)) return complete(pending, Exit.failCause(written.cause))
        const answer = written.value[index]
        if (answer === stale) staleOnes.push(pending)
        else complete(pending, answer === undefined ? Exit.die("a publish got no answer") : Exit.succeed(answer))
      }
      if (collided(exit)) {
        for (const pending of pack) {
          settle(pending, yield* Effect.exit(write([pending.request], prefs, true).pipe(Effect.mapError(unavailable))), 0)
        }
      } else {
        const written = Exit.mapError(exit, unavailable)
        pack.forEach((pending, index) => settle(pending, written, index))
      }
      return staleOnes
    })

    // A user appears once per statement, and a statement holds at most MaxRowsPerStatement
    // rows unless a single publish is larger (it is never split). Packs run in the order
    // taken, so a user's later publish never overtakes an earlier one.
    const packs = (taken: ReadonlyArray<Pending>): ReadonlyArray<Arr.NonEmptyArray<Pending>> => {
      const out: Array<{ users: Set<UserId>; rows: number; pending: Arr.NonEmptyArray<Pending> }> = []
      for (const pending of taken) {
        const { items, userId } = pending.request
        const lastWithUser = out.findLastIndex((pack) => pack.users.has(userId))
        const pack = out.slice(lastWithUser + 1).find((candidate) => candidate.rows + items.length <= MaxRowsPerStatement)
        if (pack === undefined) {
          out.push({ users: new Set([userId]), rows: items.length, pending: [pending] })
        } else {
          pack.users.add(userId)
          pack.rows += items.length
          pack.pending.push(pending)
        }
      }
      return out.map(({ pending }) => pending)
    }

    // Once taken, a batch is written to the end even when the server stops, so every
    // publish taken gets its answer; only the wait for the next one is interruptible.
    const writer = Effect.uninterruptibleMask((restore) =>
      restore(Queue.takeBetween(queue, 1, MaxPublishesPerTake)).pipe(
        Effect.flatMap((taken) => Effect.forEach(packs(taken), writePack, { discard: true }))
      )
    ).pipe(Effect.forever)
    for (let i = 0; i < Writers; i++) yield* Effect.forkScoped(writer)
    // Publishes still queued when the server stops are answered, so no caller waits forever.
    yield* Effect.addFinalizer(() =>
      Queue.clear(queue).pipe(
        Effect.map((left) => {
          const failure = Exit.fail(new StorageUnavailable({ message: "the server is shutting down", retryable: true }))
          left.forEach((pending) => complete(pending, failure))
        }),
        Effect.ignore
      )
    )

    return NotificationWriter.of({
      publish: Effect.fn("NotificationWriter.publish")(function*(requests: ReadonlyArray<PublishRequest>) {
        yield* Effect.annotateCurrentSpan({ "herald.publishes": requests.length })
        const span = yield* Effect.option(Effect.currentSpan)
        const pending = requests.map((request): Pending => ({ request, done: Deferred.makeUnsafe(), span }))
        Queue.offerAllUnsafe(queue, pending)
        return yield* Effect.forEach(pending, ({ done }) => Effect.exit(Deferred.await(done)))
      })
    })
  }))
}

// PostgreSQL's unique_violation: the whole statement was rolled back.
const collided = (exit: Exit.Exit<unknown, SqlError.SqlError | Schema.SchemaError | StorageUnavailable>): boolean => {
  if (Exit.isSuccess(exit)) return false
  const error = Cause.findErrorOption(exit.cause)
  return Option.isSome(error) && error.value._tag === "SqlError" && error.value.reason._tag === "UniqueViolation"
}

const keysOf = (batch: ReadonlyArray<PublishRequest>) =>
  batch.flatMap(({ items, userId }) =>
    items.flatMap(({ item }) => item.idempotencyKey === undefined ? [] : [[userId, item.idempotencyKey] as const])
  )

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError | StorageUnavailable): StorageUnavailable =>
  cause._tag === "StorageUnavailable" ? cause : new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `stored data did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })

