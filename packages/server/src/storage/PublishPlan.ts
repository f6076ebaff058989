/**
 * What a publish stores, decided before any row is written: each item is
 * new, or was stored by an earlier attempt of the same publish (same id), or
 * duplicates a stored row or an earlier item of the batch (same idempotency
 * key). Every field was decoded at the edge, so the rows are built without
 * checking them again. Pure, so one plan per user can be made for a whole batch of users
 * before their one shared insert.
 */
import {
  Cursor,
  type EmailRoute,
  Notification,
  type NotificationId,
  type NotifyItem,
  NotifyResult,
  type UserId
} from "@herald/domain"
import { Array as Arr, type DateTime, Result } from "effect"

export interface Published {
  /** One result per item, in the order given. */
  readonly results: ReadonlyArray<NotifyResult>
  /** The notifications this call stored (not the deduplicated ones), in cursor order. */
  readonly stored: ReadonlyArray<Notification>
  /**
   * Items whose id was already stored: an earlier attempt of this same publish stored
   * them and then lost its reply (its node died). They count as this call's own, and
   * their frames may never have gone out, so the caller sends them again.
   */
  readonly resent: ReadonlyArray<Notification>
  /** Stored rows that items duplicated by idempotency key (each once), answered as deduplicated. */
  readonly duplicates: ReadonlyArray<Notification>
  /** How many push and email delivery rows were written with them. */
  readonly deliveries: number
  /** The user's latest in-app cursor before `stored`: the first in-app frame names it as previous. */
  readonly previousInApp: Cursor
}

/** An item to publish, with the id its gateway gave it so that a resent attempt is recognised. */
export interface PublishItem {
  readonly id: NotificationId
  readonly item: NotifyItem
}

/** Where a notification of a kind goes, decided from the user's preferences and the channels configured. */
export interface Route {
  readonly inApp: boolean
  readonly push: boolean
  readonly email: EmailRoute
}

type Step =
  | { readonly fresh: number }
  | { readonly duplicateOfFresh: number }
  | { readonly resent: Notification }
  | { readonly duplicateOf: Notification }

/**
 * A row to insert, not yet numbered: the insert's answer gives its cursor, and only then is it
 * made a `Notification` (once, in `settlePlan`).
 */
export type FreshRow = Omit<Notification, "cursor">

export interface Plan {
  readonly userId: UserId
  /** The rows to insert, in the order the insert numbers them. */
  readonly fresh: ReadonlyArray<FreshRow>
  readonly steps: ReadonlyArray<Step>
}

/** Plans the items of one user against the user's rows that share an id or a key with them. */
export const planPublish = (
  userId: UserId,
  items: ReadonlyArray<PublishItem>,
  earlier: ReadonlyArray<Notification>,
  now: DateTime.Utc
): Plan => {
  const byId = new Map(earlier.map((n) => [n.id, n]))
  const byKey = new Map(earlier.flatMap((n) => n.idempotencyKey === null ? [] : [[n.idempotencyKey, n] as const]))
  const fresh: Array<FreshRow> = []
  const freshIndexByKey = new Map<string, number>()
  const steps = items.map((entry): Step => {
    const resent = byId.get(entry.id)
    if (resent !== undefined) return { resent }
    const key = entry.item.idempotencyKey
    if (key !== undefined) {
      const stored = byKey.get(key)
      if (stored !== undefined) return { duplicateOf: stored }
      const inBatch = freshIndexByKey.get(key)
      if (inBatch !== undefined) return { duplicateOfFresh: inBatch }
      freshIndexByKey.set(key, fresh.length)
    }
    fresh.push(toFreshRow(userId, entry, now))
    return { fresh: fresh.length - 1 }
  })
  return { userId, fresh, steps }
}

/** The publish's answer once its fresh rows were stored from cursor `first` on, after in-app cursor `previousInApp`. */
export const settlePlan = (plan: Plan, first: number, deliveries: number, previousInApp: number): Published => {
  const { userId } = plan
  const stored = plan.fresh.map((n, index) =>
    new Notification({ ...n, cursor: Cursor.make(first + index) }, { disableChecks: true })
  )
  const resent: Array<Notification> = []
  const duplicates = new Map<NotificationId, Notification>()
  const results = Arr.filterMap(plan.steps, (step) => {
    if ("resent" in step) {
      resent.push(step.resent)
      return Result.succeed(new NotifyResult({ id: step.resent.id, cursor: step.resent.cursor, userId, deduplicated: false }, { disableChecks: true }))
    }
    if ("duplicateOf" in step) {
      duplicates.set(step.duplicateOf.id, step.duplicateOf)
      const { cursor, id } = step.duplicateOf
      return Result.succeed(new NotifyResult({ id, cursor, userId, deduplicated: true }, { disableChecks: true }))
    }
    const own = stored["fresh" in step ? step.fresh : step.duplicateOfFresh]
    return own === undefined
      ? Result.failVoid
      : Result.succeed(new NotifyResult({ id: own.id, cursor: own.cursor, userId, deduplicated: !("fresh" in step) }, { disableChecks: true }))
  })
  return {
    results,
    stored,
    deliveries: plan.fresh.length > 0 ? deliveries : 0,
    resent,
    duplicates: [...duplicates.values()],
    previousInApp: Cursor.make(previousInApp)
  }
}

const toFreshRow = (userId: UserId, { id, item }: PublishItem, now: DateTime.Utc): FreshRow => ({
  id,
  userId,
  kind: item.kind,
  title: item.title,
  body: item.body ?? null,
  link: item.link ?? null,
  actor: item.actor ?? null,
  idempotencyKey: item.idempotencyKey ?? null,
  createdAt: now,
  readAt: null
})

