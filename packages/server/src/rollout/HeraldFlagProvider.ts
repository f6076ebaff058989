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

/** What Herald's own rule decides for a user: the variant names the rule. */
export interface HeraldDecision {
  readonly on: boolean
  readonly variant: "killed" | "denied" | "allowed" | "in" | "out"
  readonly bucket?: number
}

/** Herald's rule, pure, so the rollout flag can evaluate it without a provider round trip. */
export const heraldDecision = (state: RolloutState, userId: string): HeraldDecision => {
  if (state.killed) return { on: false, variant: "killed" }
  if (state.deny.some((id) => id === userId)) return { on: false, variant: "denied" }
  if (state.allow.some((id) => id === userId)) return { on: true, variant: "allowed" }
  const bucket = bucketOf(userId)
  const on = inPercentage(bucket, state.percentage)
  return { on, variant: on ? "in" : "out", bucket }
}

const decisionDetails = ({ bucket, on, variant }: HeraldDecision): ResolutionDetails<boolean> =>
  variant === "killed"
    ? { value: false, reason: "DISABLED", variant }
    : variant === "denied" || variant === "allowed"
    ? { value: on, reason: "TARGETING_MATCH", variant }
    : { value: on, reason: "SPLIT", variant, flagMetadata: bucket === undefined ? {} : { bucket } }

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
    const decision = heraldDecision(current(), userId)
    return Promise.resolve(decisionDetails(decision))
  },
  resolveStringEvaluation: (_key, defaultValue) => notBoolean(defaultValue),
  resolveNumberEvaluation: (_key, defaultValue) => notBoolean(defaultValue),
  resolveObjectEvaluation: <T extends JsonValue>(_key: string, defaultValue: T) => notBoolean(defaultValue)
})
