/**
 * How each user wants to be told: per kind of notification, whether it shows
 * in the app live, goes to their devices as a push, and goes out by email
 * (at once, in the digest, or not at all).
 *
 * Herald stores only what a user changed; everything else follows the
 * defaults, which depend on whether the user existed before the rollout:
 * - a new user: in-app on, push on, email in the digest;
 * - a user marked `existingBeforeRollout`: email at once (as they always had),
 *   push off until they turn it on, in-app on (it only shows inside the app,
 *   so it cannot surprise anyone outside it).
 */
import { Schema } from "effect"
import { isStorableText } from "./StorableText.ts"
import { DigestSettings, DigestSettingsPatch } from "./Digest.ts"
import { UserId } from "./Ids.ts"
import { type NotificationKind } from "./Notification.ts"

export const Channel = Schema.Literals(["in_app", "push", "email"])
export type Channel = typeof Channel.Type

/** Where email goes for a kind: not at all, one email per notification, or the user's digest. */
export const EmailRoute = Schema.Literals(["off", "immediate", "digest"])
export type EmailRoute = typeof EmailRoute.Type

export const EmailAddress = Schema.String.pipe(
  Schema.check(
    Schema.isMaxLength(254),
    Schema.isPattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { description: "an email address" }),
    isStorableText
  )
)

export class KindPreferences extends Schema.Class<KindPreferences>("@herald/domain/KindPreferences")({
  inApp: Schema.Boolean,
  push: Schema.Boolean,
  email: EmailRoute
}) {}

export class KindsPreferences extends Schema.Class<KindsPreferences>("@herald/domain/KindsPreferences")({
  mention: KindPreferences,
  assignment: KindPreferences,
  status_update: KindPreferences
}) {}

/** A user's effective preferences: their changes over the defaults. */
export class Preferences extends Schema.Class<Preferences>("@herald/domain/Preferences")({
  userId: UserId,
  /** Users who had email alerts before the rollout get email-first defaults. */
  existingBeforeRollout: Schema.Boolean,
  /** Where email goes; null until the app sets it (email routes then send nothing). */
  emailAddress: Schema.NullOr(EmailAddress),
  kinds: KindsPreferences,
  /** When the `digest` email goes out. */
  digest: DigestSettings
}) {}

/** A change to one kind's preferences; omitted fields stay as they are. */
export const KindPreferencesPatch = Schema.Struct({
  inApp: Schema.optionalKey(Schema.Boolean),
  push: Schema.optionalKey(Schema.Boolean),
  email: Schema.optionalKey(EmailRoute)
})
export type KindPreferencesPatch = typeof KindPreferencesPatch.Type

/**
 * A change to a user's preferences; omitted fields stay as they are.
 *
 * @example
 * ```ts
 * const patch: PreferencesPatch = { kinds: { status_update: { push: false, email: "digest" } } }
 * ```
 */
export const PreferencesPatch = Schema.Struct({
  existingBeforeRollout: Schema.optionalKey(Schema.Boolean),
  emailAddress: Schema.optionalKey(Schema.NullOr(EmailAddress)),
  digest: Schema.optionalKey(DigestSettingsPatch),
  kinds: Schema.optionalKey(Schema.Struct({
    mention: Schema.optionalKey(KindPreferencesPatch),
    assignment: Schema.optionalKey(KindPreferencesPatch),
    status_update: Schema.optionalKey(KindPreferencesPatch)
  }))
})
export type PreferencesPatch = typeof PreferencesPatch.Type

/**
 * The change a user may make to their own preferences (`/rpc/me`): how each
 * kind reaches them and their digest. The email address and the
 * existing-before-rollout flag belong to the app, which knows which addresses
 * are verified: a stolen client token must not be able to send a user's
 * future email elsewhere. Sending either is refused, naming it.
 *
 * @example
 * ```ts
 * const patch: UserPreferencesPatch = { kinds: { mention: { push: false } }, digest: { timeZone: "Europe/Paris" } }
 * ```
 */
export const UserPreferencesPatch = Schema.Struct({
  digest: PreferencesPatch.fields.digest,
  kinds: PreferencesPatch.fields.kinds,
  // Named, so that sending them fails with a reason rather than being dropped without a word.
  emailAddress: Schema.optionalKey(Schema.Never.annotate({ message: "the email address is set by the app, not from a client token" })),
  existingBeforeRollout: Schema.optionalKey(Schema.Never.annotate({ message: "set by the app, not from a client token" }))
})
export type UserPreferencesPatch = typeof UserPreferencesPatch.Type

/** What a user has changed, as stored: per kind, only the fields they set. */
export const PreferenceOverrides = Schema.Struct({
  mention: Schema.optionalKey(KindPreferencesPatch),
  assignment: Schema.optionalKey(KindPreferencesPatch),
  status_update: Schema.optionalKey(KindPreferencesPatch)
})
export type PreferenceOverrides = typeof PreferenceOverrides.Type

export const kinds: ReadonlyArray<NotificationKind> = ["mention", "assignment", "status_update"]

const emailFirstDefaults = new KindPreferences({ inApp: true, push: false, email: "immediate" })
const realtimeDefaults = new KindPreferences({ inApp: true, push: true, email: "digest" })

export const defaultKindPreferences = (existingBeforeRollout: boolean): KindPreferences =>
  existingBeforeRollout ? emailFirstDefaults : realtimeDefaults

/** The effective preferences from what is stored. */
export const resolvePreferences = (stored: {
  readonly userId: UserId
  readonly existingBeforeRollout: boolean
  readonly emailAddress: string | null
  readonly overrides: PreferenceOverrides
  readonly digest: DigestSettings
}): Preferences => {
  const base = defaultKindPreferences(stored.existingBeforeRollout)
  // Every publish resolves its user's preferences: the parts made of decoded values (the
  // defaults and the overrides) are not checked again; the whole, with the stored address, is.
  const kind = (k: NotificationKind) => {
    const override = stored.overrides[k]
    return override === undefined ? base : new KindPreferences({ ...base, ...override }, { disableChecks: true })
  }
  return new Preferences({
    userId: stored.userId,
    existingBeforeRollout: stored.existingBeforeRollout,
    emailAddress: stored.emailAddress,
    kinds: new KindsPreferences({
      mention: kind("mention"),
      assignment: kind("assignment"),
      status_update: kind("status_update")
    }, { disableChecks: true }),
    digest: stored.digest
  })
}

/** The stored overrides after applying a patch. */
export const applyPatch = (overrides: PreferenceOverrides, patch: PreferencesPatch): PreferenceOverrides => {
  const next = { ...overrides }
  for (const k of kinds) {
    const change = patch.kinds?.[k]
    if (change !== undefined) next[k] = { ...overrides[k], ...change }
  }
  return next
}
