/**
 * The out-of-app channels this node can send on, as the delivery worker sees
 * them. A channel that is not configured is `None`: no delivery rows are
 * written for it, and the server says so at start.
 */
import type { Notification, UserId } from "@herald/domain"
import { Context, type Duration, Effect, Layer, Option } from "effect"

/** What became of one send to one target. */
export type SendOutcome =
  | { readonly _tag: "Sent"; readonly providerId: string }
  /** Worth trying again (throttled, provider error, network); `retryAfter` when the provider said. */
  | { readonly _tag: "Retry"; readonly reason: string; readonly retryAfter?: Duration.Duration | undefined }
  /** The target is gone for good (an unregistered device token): drop the row and the target. */
  | { readonly _tag: "Discard"; readonly reason: string }
  /** The provider refused this message for good: a dead letter at once. */
  | { readonly _tag: "Fail"; readonly reason: string }

export interface PushChannel {
  /** One provider batch for one notification to the user's device tokens; one outcome per token, in order. */
  send(notification: Notification, tokens: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<SendOutcome>>
}

export interface EmailChannel {
  send(notification: Notification, to: string): Effect.Effect<SendOutcome>
  /** One digest of the user's waiting notifications (newest first). */
  sendDigest(userId: UserId, to: string, items: ReadonlyArray<Notification>): Effect.Effect<SendOutcome>
}

export class Channels extends Context.Service<Channels, {
  readonly push: Option.Option<PushChannel>
  readonly email: Option.Option<EmailChannel>
}>()("@herald/server/channels/Channels") {
  /** No out-of-app channel: in-app only. */
  static readonly layerNone = Layer.succeed(Channels, Channels.of({ push: Option.none(), email: Option.none() }))

  static readonly layerWith = (channels: Channels["Service"]) => Layer.succeed(Channels, channels)

  /** Logs which channels are on, once at start. */
  static readonly announce = Effect.gen(function*() {
    const channels = yield* Channels
    const state = (on: boolean) => on ? "on" : "off"
    yield* Effect.logInfo(
      `channels: in-app on, push ${state(Option.isSome(channels.push))}, email ${state(Option.isSome(channels.email))}`
    )
  })
}
