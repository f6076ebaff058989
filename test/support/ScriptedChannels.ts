/**
 * Channels for testing the delivery worker's bookkeeping (claims, retries,
 * dead letters, circuit breaking, crash recovery): each send is answered by
 * a script and recorded once it is answered. The providers' SDKs are tested
 * against their wire-protocol fakes in `test/channels/`; this replaces only
 * the last step, so the worker's own logic can be driven precisely.
 */
import type { Notification } from "@herald/domain"
import { Channels, type SendOutcome } from "@herald/server"
import { Effect, Layer, Option } from "effect"

export interface SentRecord {
  readonly channel: "push" | "email"
  readonly notificationId: string
  readonly target: string
}

export type Script = (send: { readonly channel: "push" | "email"; readonly target: string; readonly notification: Notification; readonly attempt: number }) =>
  Effect.Effect<SendOutcome>

export const sent: SendOutcome = { _tag: "Sent", providerId: "scripted" }

export const makeScriptedChannels = (initial: Script = () => Effect.succeed(sent)) => {
  let script = initial
  const records: Array<SentRecord> = []
  const attempts = new Map<string, number>()
  const answer = (channel: "push" | "email", notification: Notification, target: string) =>
    Effect.suspend(() => {
      const key = `${channel}|${notification.id}|${target}`
      const attempt = (attempts.get(key) ?? 0) + 1
      attempts.set(key, attempt)
      return script({ channel, target, notification, attempt })
    }).pipe(
      Effect.tap((outcome) =>
        Effect.sync(() => {
          if (outcome._tag === "Sent") records.push({ channel, notificationId: notification.id, target })
        })
      )
    )
  const layer = Layer.succeed(Channels, Channels.of({
    push: Option.some({
      send: (notification, tokens) => Effect.forEach(tokens, (token) => answer("push", notification, token))
    }),
    email: Option.some({
      send: (notification, to) => answer("email", notification, to),
      sendDigest: (_userId, to, items) =>
        Effect.forEach(items, (notification) => answer("email", notification, to)).pipe(
          Effect.map((outcomes) => outcomes.find((o) => o._tag !== "Sent") ?? sent)
        )
    })
  }))
  return {
    layer,
    /** Every send a provider accepted, in order. */
    records: () => [...records],
    setScript: (next: Script) => {
      script = next
    }
  }
}
