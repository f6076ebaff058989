/**
 * Branded identifiers shared by every package, so a user id can never be
 * passed where a notification id is expected.
 */
import { Schema } from "effect"

/**
 * The app's own id for a user: 1–128 characters of letters, digits and `_ - . @ : |`.
 *
 * @example
 * ```ts
 * const alice = UserId.make("alice")
 * ```
 */
export const UserId = Schema.String.pipe(
  Schema.check(
    Schema.isMinLength(1),
    Schema.isMaxLength(128),
    Schema.isPattern(/^[A-Za-z0-9_\-.@:|]+$/, {
      description: "letters, digits and _ - . @ : |"
    })
  ),
  Schema.brand("UserId")
)
export type UserId = typeof UserId.Type

/**
 * `UserId` for input a person typed (a CLI flag, a sign-in form): the same
 * rules, but a failure says what a user id may hold instead of printing its RegExp.
 */
export const UserIdInput = UserId.annotate({ message: "Expected a user id: 1 to 128 letters, digits and _ - . @ : |" })

/** A time-ordered UUIDv7 assigned by Herald when a notification is stored. */
export const NotificationId = Schema.String.pipe(Schema.check(Schema.isUUID(7)), Schema.brand("NotificationId"))
export type NotificationId = typeof NotificationId.Type

/**
 * A user's monotonic position in their own notification stream: the first
 * notification a user receives has cursor 1, the next 2, and so on, with no gaps.
 * A socket that resumes from cursor N receives exactly the notifications after N.
 */
export const Cursor = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)), Schema.brand("Cursor"))
export type Cursor = typeof Cursor.Type
