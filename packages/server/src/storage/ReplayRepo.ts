/**
 * The rows a replay reads and stamps: push and email delivery rows (paged by
 * id) and in-app notifications (paged by their time-ordered id), within the
 * bounds fixed when the replay was planned.
 *
 * A row stamped with the replay's id was acted on by an earlier attempt of
 * the same page (the caller was interrupted before it heard back): it is
 * selected again, whatever its state now, but only reported, never acted on
 * twice.
 */
import {
  Notification,
  type ReplayRun,
  type ReplaySelection,
  type ReplayStateCounts,
  type ReplayStatus,
  StorageUnavailable
} from "@herald/domain"
import { type Cause, Context, DateTime, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { deliveryConditions, notificationConditions } from "./DeliveryFilters.ts"
import { notificationColumns } from "./NotificationColumns.ts"

const AllStatuses: ReadonlyArray<ReplayStatus> = ["failed", "dead", "sent"]

/** The bounds of a new replay: the newest delivery row and the database's clock now. */
export interface ReplayBounds {
  readonly upToDelivery: number
  readonly upTo: DateTime.Utc
}

export interface ReplayTotals {
  readonly inApp: number
  readonly push: ReplayStateCounts
  readonly email: ReplayStateCounts
}

/** A delivery row a page selected: its state before the page, and whether the page put it back on the path. */
export interface PickedDelivery {
  readonly id: number
  readonly state: "failed" | "dead" | "sent" | "pending" | "sending" | "discarded"
  /** Stamped by an earlier attempt of this replay: reported, not acted on again. */
  readonly earlier: boolean
  readonly requeued: boolean
}

/** An in-app item a page selected. */
export interface PickedNotification {
  readonly notification: Notification
  readonly earlier: boolean
}

const PickedRow = Schema.Struct({
  id: Schema.Number,
  state: Schema.Literals(["failed", "dead", "sent", "pending", "sending", "discarded"]),
  earlier: Schema.Boolean,
  requeued: Schema.Boolean
})

const InAppRow = Schema.Struct({ ...Notification.fields, earlier: Schema.Boolean })

const CountRow = Schema.Struct({ channel: Schema.Literals(["push", "email"]), state: Schema.String, n: Schema.Number })

export class ReplayRepo extends Context.Service<ReplayRepo, {
  readonly bounds: Effect.Effect<ReplayBounds, StorageUnavailable>
  /** How many rows of each channel and state the selection holds within the bounds. */
  count(selection: ReplaySelection, bounds: ReplayBounds): Effect.Effect<ReplayTotals, StorageUnavailable>
  /**
   * Locks the next `limit` push and email deliveries after `after` and puts the failed and dead
   * ones (and the sent ones when `force`) of `channelsOn` back on the delivery path with fresh
   * attempts, stamped.
   */
  requeueDeliveries(
    run: ReplayRun,
    selection: ReplaySelection,
    after: number,
    limit: number,
    force: boolean,
    /** The channels the server can send on; rows of the others are left as they are. */
    channelsOn: ReadonlyArray<"push" | "email">
  ): Effect.Effect<ReadonlyArray<PickedDelivery>, StorageUnavailable>
  /** The current state of each of the rows `ids`. */
  deliveryStates(ids: ReadonlyArray<number>): Effect.Effect<ReadonlyMap<number, string>, StorageUnavailable>
  /** The next `limit` in-app items after the notification `after` (null: from the start). */
  inAppPage(
    run: ReplayRun,
    selection: ReplaySelection,
    after: string | null,
    limit: number
  ): Effect.Effect<ReadonlyArray<PickedNotification>, StorageUnavailable>
  /** Routes the notifications in-app from now on and stamps them with the replay. */
  markInAppReplayed(run: ReplayRun, ids: ReadonlyArray<string>): Effect.Effect<void, StorageUnavailable>
}>()("@herald/server/storage/ReplayRepo") {
  static readonly layer = Layer.effect(ReplayRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodePicked = Schema.decodeUnknownEffect(Schema.Array(PickedRow))
    const decodeInApp = Schema.decodeUnknownEffect(Schema.Array(InAppRow))
    const decodeCounts = Schema.decodeUnknownEffect(Schema.Array(CountRow))
    const decodeBounds = Schema.decodeUnknownEffect(
      Schema.Array(Schema.Struct({ upToDelivery: Schema.Number, upTo: Schema.DateTimeUtcFromString }))
    )

    const statuses = (selection: ReplaySelection) => selection.status === undefined ? AllStatuses : [selection.status]
    const includesDeliveries = (selection: ReplaySelection) => selection.channel !== "in_app"
    // In-app items never fail or die: a status other than `sent` selects none of them.
    const includesInApp = (selection: ReplaySelection) =>
      (selection.channel === undefined || selection.channel === "in_app") &&
      (selection.status === undefined || selection.status === "sent")

    const bounds = sql`
      SELECT COALESCE(max(id), 0)::float8 AS "upToDelivery", to_json(now())#>>'{}' AS "upTo" FROM deliveries`.pipe(
      Effect.flatMap(decodeBounds),
      Effect.flatMap((rows) => Effect.fromNullishOr(rows[0])),
      Effect.mapError(unavailable),
      Effect.withSpan("ReplayRepo.bounds")
    )

    const count = Effect.fn("ReplayRepo.count")(function*(selection: ReplaySelection, limits: ReplayBounds) {
      const empty = { failed: 0, dead: 0, sent: 0 }
      const push = { ...empty }
      const email = { ...empty }
      if (includesDeliveries(selection)) {
        const rows = yield* sql`
          SELECT d.channel, d.state, count(*)::float8 AS n
          FROM deliveries d JOIN notifications n ON n.id = d.notification_id
          WHERE d.id <= ${limits.upToDelivery} AND d.state IN ${sql.in(statuses(selection))}
            ${deliveryConditions(sql, selection)}
          GROUP BY d.channel, d.state`.pipe(Effect.flatMap(decodeCounts), Effect.mapError(unavailable))
        for (const row of rows) {
          const counts = row.channel === "push" ? push : email
          if (row.state === "failed" || row.state === "dead" || row.state === "sent") counts[row.state] = row.n
        }
      }
      let inApp = 0
      if (includesInApp(selection)) {
        const [row] = yield* sql<{ readonly n: number }>`
          SELECT count(*)::float8 AS n FROM notifications n
          WHERE n.created_at <= ${DateTime.toDateUtc(limits.upTo)} ${notificationConditions(sql, selection)}
            ${selection.status === "sent" ? sql`AND n.in_app` : sql``}`.pipe(Effect.mapError(unavailable))
        inApp = row?.n ?? 0
      }
      return { inApp, push, email }
    })

    const requeueDeliveries = Effect.fn("ReplayRepo.requeueDeliveries")(function*(
      run: ReplayRun,
      selection: ReplaySelection,
      after: number,
      limit: number,
      force: boolean,
      channelsOn: ReadonlyArray<"push" | "email">
    ) {
      if (!includesDeliveries(selection)) return []
      const sendable = channelsOn.length === 0 ? sql`false` : sql`p.channel IN ${sql.in(channelsOn)}`
      return yield* sql`
        WITH picked AS (
          SELECT d.id, d.state, d.channel, COALESCE(d.replay_id = ${run.replayId}::uuid, false) AS earlier
          FROM deliveries d JOIN notifications n ON n.id = d.notification_id
          WHERE d.id > ${after} AND d.id <= ${run.upToDelivery}
            AND (d.replay_id = ${run.replayId}::uuid OR d.state IN ${sql.in(statuses(selection))})
            ${deliveryConditions(sql, selection)}
          ORDER BY d.id
          LIMIT ${limit}
          FOR UPDATE OF d
        ), requeued AS (
          UPDATE deliveries d SET
            state = 'pending', attempts = 0, next_attempt_at = now(), claimed_until = NULL, updated_at = now(),
            replay_id = ${run.replayId}::uuid,
            resends_allowed = d.resends_allowed + CASE WHEN p.state = 'sent' THEN 1 ELSE 0 END
          FROM picked p
          WHERE d.id = p.id AND NOT p.earlier AND (p.state <> 'sent' OR ${force}) AND ${sendable}
          RETURNING d.id
        )
        SELECT p.id::float8 AS id, p.state, p.earlier, (r.id IS NOT NULL) AS requeued
        FROM picked p LEFT JOIN requeued r ON r.id = p.id
        ORDER BY p.id`.pipe(Effect.flatMap(decodePicked), Effect.mapError(unavailable))
    })

    const deliveryStates = Effect.fn("ReplayRepo.deliveryStates")(function*(ids: ReadonlyArray<number>) {
      if (ids.length === 0) return new Map<number, string>()
      const rows = yield* sql<{ readonly id: number; readonly state: string }>`
        SELECT id::float8 AS id, state FROM deliveries WHERE id IN ${sql.in(ids)}`.pipe(Effect.mapError(unavailable))
      return new Map(rows.map((row) => [row.id, row.state]))
    })

    const inAppPage = Effect.fn("ReplayRepo.inAppPage")(function*(
      run: ReplayRun,
      selection: ReplaySelection,
      after: string | null,
      limit: number
    ) {
      if (!includesInApp(selection)) return []
      const rows = yield* sql`
        SELECT ${notificationColumns(sql)}, COALESCE(n.replay_id = ${run.replayId}::uuid, false) AS earlier
        FROM notifications n
        WHERE n.created_at <= ${DateTime.toDateUtc(run.upTo)}
          ${after === null ? sql`` : sql`AND n.id > ${after}::uuid`}
          ${selection.status === "sent" ? sql`AND (n.in_app OR n.replay_id = ${run.replayId}::uuid)` : sql``}
          ${notificationConditions(sql, selection)}
        ORDER BY n.id
        LIMIT ${limit}`.pipe(Effect.flatMap(decodeInApp), Effect.mapError(unavailable))
      return rows.map(({ earlier, ...notification }) => ({ notification: new Notification(notification), earlier }))
    })

    const markInAppReplayed = Effect.fn("ReplayRepo.markInAppReplayed")(function*(run: ReplayRun, ids: ReadonlyArray<string>) {
      if (ids.length === 0) return
      yield* sql`
        UPDATE notifications SET in_app = true, replay_id = ${run.replayId}::uuid
        WHERE id IN ${sql.in(ids)}`.pipe(Effect.asVoid, Effect.mapError(unavailable))
    })

    return ReplayRepo.of({ bounds, count, requeueDeliveries, deliveryStates, inAppPage, markInAppReplayed })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError | Cause.NoSuchElementError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SqlError" ? `database error: ${cause.message}` : `a replay row did not decode: ${cause.message}`,
    retryable: cause._tag === "SqlError"
  })
