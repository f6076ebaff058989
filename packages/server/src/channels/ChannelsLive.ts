/**
 * The channels from the environment: push through firebase-admin when FCM is
 * configured, email through SES when `SES_FROM` is set. Adapts the senders'
 * outcomes to the delivery worker's, and gives every email its one-click
 * unsubscribe link.
 */
import { type Notification, type UserId } from "@herald/domain"
import { Duration, Effect, Layer, Option } from "effect"
import { Unsubscribe } from "../gateway/Unsubscribe.ts"
import { Channels, type EmailChannel, type PushChannel, type SendOutcome } from "./Channels.ts"
import { type EmailOutcome, EmailSender } from "./email/EmailSender.ts"
import { type PushOutcome, pushMessageOf, PushSender } from "./push/PushSender.ts"

const retryAfter = (ms: number | undefined) => ms === undefined ? undefined : Duration.millis(ms)

const fromPush = (outcome: PushOutcome): SendOutcome => {
  switch (outcome._tag) {
    case "Sent":
      return { _tag: "Sent", providerId: outcome.messageId }
    case "InvalidToken":
      return { _tag: "Discard", reason: `${outcome.code}: ${outcome.reason}` }
    case "Retryable":
      return { _tag: "Retry", reason: `${outcome.code}: ${outcome.reason}`, retryAfter: retryAfter(outcome.retryAfterMs) }
    case "Failed":
      return { _tag: "Fail", reason: `${outcome.code}: ${outcome.reason}` }
  }
}

const fromEmail = (outcome: EmailOutcome): SendOutcome => {
  switch (outcome._tag) {
    case "Sent":
      return { _tag: "Sent", providerId: outcome.messageId }
    case "Retryable":
      return { _tag: "Retry", reason: outcome.reason, retryAfter: retryAfter(outcome.retryAfterMs) }
    case "Failed":
      return { _tag: "Fail", reason: outcome.reason }
  }
}

export const ChannelsLive = Layer.effect(Channels, Effect.gen(function*() {
  const push = yield* PushSender
  const email = yield* EmailSender
  const unsubscribe = yield* Unsubscribe

  const pushChannel: PushChannel = {
    send: (notification: Notification, tokens: ReadonlyArray<string>) =>
      push.send({ ...pushMessageOf(notification, tokens), collapseKey: notification.kind }).pipe(
        Effect.map((outcomes) => outcomes.map(fromPush))
      )
  }
  const emailChannel: EmailChannel = {
    send: (notification: Notification, to: string) =>
      unsubscribe.link(notification.userId, notification.kind).pipe(
        Effect.flatMap((unsubscribeUrl) => email.send({ to, notification, unsubscribeUrl })),
        Effect.map(fromEmail)
      ),
    sendDigest: (userId: UserId, to: string, items: ReadonlyArray<Notification>) =>
      unsubscribe.link(userId, "digest").pipe(
        Effect.flatMap((unsubscribeUrl) => email.sendDigest({ to, items, unsubscribeUrl })),
        Effect.map(fromEmail)
      )
  }
  return Channels.of({
    push: push.enabled ? Option.some(pushChannel) : Option.none(),
    email: email.enabled ? Option.some(emailChannel) : Option.none()
  })
}))
