/**
 * The notification as apps publish it and as users see it.
 */
import { Schema } from "effect"
import { Cursor, NotificationId, UserId } from "./Ids.ts"
import { isStorableText } from "./StorableText.ts"

/** What happened: somebody @-mentioned the user, assigned them something, or changed a status. */
export const NotificationKind = Schema.Literals(["mention", "assignment", "status_update"])
export type NotificationKind = typeof NotificationKind.Type

const Title = Schema.String.pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(200), isStorableText))
const Body = Schema.String.pipe(Schema.check(Schema.isMaxLength(4000), isStorableText))
const Link = Schema.String.pipe(
  Schema.check(
    Schema.isMaxLength(2000),
    isStorableText,
    Schema.isPattern(/^(https?:\/\/|\/)/, { description: "an http(s) URL or an absolute path" })
  )
)
const Actor = Schema.String.pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(200), isStorableText))

/**
 * A caller-chosen key that makes a publish safe to retry: a second publish for
 * the same user with the same key returns the first notification's id and
 * delivers nothing.
 */
export const IdempotencyKey = Schema.String.pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(200), isStorableText))

/**
 * One notification to publish.
 *
 * @example
 * ```ts
 * const item = NotifyItem.make({
 *   userId: UserId.make("alice"),
 *   kind: "mention",
 *   title: "Bob mentioned you in #general",
 *   link: "https://app.example.com/messages/42",
 *   idempotencyKey: "message-42-mention-alice"
 * })
 * ```
 */
export class NotifyItem extends Schema.Class<NotifyItem>("@herald/domain/NotifyItem")({
  userId: UserId,
  kind: NotificationKind,
  title: Title,
  body: Schema.optionalKey(Body),
  link: Schema.optionalKey(Link),
  actor: Schema.optionalKey(Actor),
  idempotencyKey: Schema.optionalKey(IdempotencyKey)
}) {}

/** A stored notification, as the inbox and sockets show it. */
export class Notification extends Schema.Class<Notification>("@herald/domain/Notification")({
  id: NotificationId,
  userId: UserId,
  cursor: Cursor,
  kind: NotificationKind,
  title: Schema.String,
  body: Schema.NullOr(Schema.String),
  link: Schema.NullOr(Schema.String),
  actor: Schema.NullOr(Schema.String),
  idempotencyKey: Schema.NullOr(Schema.String),
  createdAt: Schema.DateTimeUtcFromString,
  readAt: Schema.NullOr(Schema.DateTimeUtcFromString)
}) {}

/** What one published item became. */
export class NotifyResult extends Schema.Class<NotifyResult>("@herald/domain/NotifyResult")({
  id: NotificationId,
  userId: UserId,
  cursor: Cursor,
  /** True when an earlier publish with the same idempotency key already stored it; nothing was delivered again. */
  deduplicated: Schema.Boolean
}) {}
