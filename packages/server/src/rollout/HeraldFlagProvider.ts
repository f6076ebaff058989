/**
 * Herald's own OpenFeature provider: it answers `realtime_notifications`
 * from the rollout state this node holds (kept current from PostgreSQL by
 * `RolloutFlag`), so an evaluation is a lookup and a hash, never I/O.
 * Another provider (a vendor's) can replace it by configuration.
 */
import { RealtimeFlag, type RolloutState } from "@herald/domain"
import { ErrorCode, type JsonValue, type Provider, type ResolutionDetails } from "@openfeature/server-sdk"
import { bucketOf, inPercentage } from "./Bucket.ts"

const notBoolean = <T>(defaultValue: T): Promise<ResolutionDetails<T>> =>
  Promise.resolve({
    value: defaultValue,
    reason: "ERROR",
    errorCode: ErrorCode.TYPE_MISMATCH,
    errorMessage: `${RealtimeFlag} is a boolean flag`
  })

export const makeHeraldFlagProvider = (current: () => RolloutState): Provider => ({
  metadata: { name: "herald" },
  runsOn: "server",
  resolveBooleanEvaluation: (flagKey, defaultValue, context) => {
    if (flagKey !== RealtimeFlag) {
      return Promise.resolve({ value: defaultValue, reason: "ERROR", errorCode: ErrorCode.FLAG_NOT_FOUND })
    }
    const userId = context.targetingKey
    if (userId === undefined) {
      return Promise.resolve({ value: defaultValue, reason: "ERROR", errorCode: ErrorCode.TARGETING_KEY_MISSING })
    }
    const state = current()
    if (state.killed) return Promise.resolve({ value: false, reason: "DISABLED", variant: "killed" })
    if (state.deny.some((id) => id === userId)) return Promise.resolve({ value: false, reason: "TARGETING_MATCH", variant: "denied" })
    if (state.allow.some((id) => id === userId)) return Promise.resolve({ value: true, reason: "TARGETING_MATCH", variant: "allowed" })
    const bucket = bucketOf(userId)
    const on = inPercentage(bucket, state.percentage)
    return Promise.resolve({ value: on, reason: "SPLIT", variant: on ? "in" : "out", flagMetadata: { bucket } })
  },
  resolveStringEvaluation: (_key, defaultValue) => notBoolean(defaultValue),
  resolveNumberEvaluation: (_key, defaultValue) => notBoolean(defaultValue),
  resolveObjectEvaluation: <T extends JsonValue>(_key: string, defaultValue: T) => notBoolean(defaultValue)
})
