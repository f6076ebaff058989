/**
 * Stands in for a vendor's OpenFeature provider (LaunchDarkly's, say) in the
 * tests of `HERALD_FLAG_PROVIDER`: OpenFeature's own in-memory provider,
 * with `realtime_notifications` on only for users whose id starts with
 * `vendor-in`.
 */
import { InMemoryProvider } from "@openfeature/server-sdk"

export default () =>
  new InMemoryProvider({
    realtime_notifications: {
      variants: { on: true, off: false },
      defaultVariant: "off",
      disabled: false,
      contextEvaluator: (context) => typeof context.targetingKey === "string" && context.targetingKey.startsWith("vendor-in") ? "on" : "off"
    }
  })
