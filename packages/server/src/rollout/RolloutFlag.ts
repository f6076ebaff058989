/**
 * This node's view of the `realtime_notifications` flag and its evaluation
 * through OpenFeature.
 *
 * - The state is loaded at start and reloaded whenever PostgreSQL announces a
 *   committed change (LISTEN `herald_rollout`), so a change made on any node,
 *   the kill switch included, applies on every node within a round trip.
 *   A reload every few seconds covers announcements lost while the listening
 *   connection was down.
 * - The kill switch and the deny list are enforced here whatever the provider
 *   says: they are safety controls the guard and operators rely on. Whether a
 *   user is in is then the provider's answer: Herald's own (percentage and
 *   allow list) unless `HERALD_FLAG_PROVIDER` names another module.
 * - A provider that fails to answer counts as "off": the user gets the old
 *   email-only behaviour, never nothing.
 */
import { PgClient } from "@effect/sql-pg"
import {
  ConfigurationError,
  RealtimeFlag,
  type RolloutReason,
  type RolloutState,
  type StorageUnavailable,
  type UserId
} from "@herald/domain"
import { OpenFeature, type Provider } from "@openfeature/server-sdk"
import { Context, Effect, Layer, Option, Queue, Schedule } from "effect"
import { SecureRandom } from "effect/crypto"
import { pathToFileURL } from "node:url"
import { resolve } from "node:path"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { RolloutChannel, type RolloutCommand, RolloutRepo } from "../storage/RolloutRepo.ts"
import { heraldDecision, makeHeraldFlagProvider } from "./HeraldFlagProvider.ts"

const SafetyReload = "5 seconds"

/** Whether the flag has a user in, and which rule decided it. */
export interface Evaluation {
  readonly enabled: boolean
  readonly reason: RolloutReason
}

// The variants Herald's own provider answers with (see HeraldFlagProvider); another provider's are its own business.
const heraldReason = (variant: string | undefined): RolloutReason =>
  variant === "killed" || variant === "denied" || variant === "allowed"
    ? variant
    : variant === "in" || variant === "out"
    ? "percentage"
    : "provider"

export class RolloutFlag extends Context.Service<RolloutFlag, {
  /** Whether real-time delivery (sockets and push) is on for `userId`. */
  isEnabled(userId: UserId): Effect.Effect<boolean>
  /** `isEnabled` with the rule that decided it, for `herald user`. */
  evaluate(userId: UserId): Effect.Effect<Evaluation>
  /** The state this node holds now. */
  readonly current: Effect.Effect<RolloutState>
  /** Applies and audits a change; this node holds the new state when it returns. */
  change(command: RolloutCommand, actor: string, reason?: string): Effect.Effect<RolloutState, StorageUnavailable>
  /** The provider's name, for `rollout status`. */
  readonly provider: string
}>()("@herald/server/rollout/RolloutFlag") {
  static readonly layer = Layer.effect(RolloutFlag, Effect.gen(function*() {
    const repo = yield* RolloutRepo
    const pg = yield* PgClient.PgClient
    const config = yield* HeraldConfig
    let state = yield* repo.load.pipe(
      Effect.mapError((error) => new ConfigurationError({ message: `cannot read the rollout flag: ${error.message}` }))
    )
    const adopt = (next: RolloutState) => {
      if (next.version > state.version) state = next
    }
    const reload = repo.load.pipe(
      Effect.tap((next) => Effect.sync(() => adopt(next))),
      Effect.catch((error) => Effect.logWarning("could not reload the rollout flag", error.message))
    )

    // LISTEN, then reload (a change may have committed before the LISTEN), then reload on every announcement.
    const listen = Effect.scoped(Effect.gen(function*() {
      const queue = yield* pg.listen(RolloutChannel)
      yield* reload
      while (true) {
        const notification = yield* Queue.take(queue)
        if (Number(notification.payload) > state.version) yield* reload
      }
    }))
    yield* listen.pipe(
      Effect.catchCause((cause) => Effect.logWarning("rollout flag listener lost its connection; listening again", cause)),
      Effect.repeat(Schedule.spaced("1 second")),
      Effect.forkScoped
    )
    yield* reload.pipe(Effect.repeat(Schedule.spaced(SafetyReload)), Effect.forkScoped)

    const provider = yield* Option.match(config.flagProvider, {
      onNone: () => Effect.succeed(makeHeraldFlagProvider(() => state)),
      onSome: loadProvider
    })
    // A domain of its own, so that several servers in one process (tests) keep their providers apart.
    const domain = `herald-${SecureRandom.uuidV7Unsafe()}`
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => OpenFeature.setProviderAndWait(domain, provider),
        catch: (cause) => new ConfigurationError({ message: `the flag provider did not start: ${String(cause)}` })
      }),
      () => Effect.promise(() => provider.onClose?.() ?? Promise.resolve()).pipe(Effect.ignore)
    )
    const client = OpenFeature.getClient(domain)

    const ownProvider = Option.isNone(config.flagProvider)
    // Herald's own rule is pure and local: evaluated here it costs a hash, where the
    // OpenFeature client would add a promise and its hook machinery to every publish.
    const evaluate = (userId: UserId): Effect.Effect<Evaluation> =>
      Effect.suspend(() => {
        if (ownProvider) {
          const { on, variant } = heraldDecision(state, userId)
          return Effect.succeed({ enabled: on, reason: heraldReason(variant) })
        }
        if (state.killed) return Effect.succeed({ enabled: false, reason: "killed" })
        if (state.deny.some((id) => id === userId)) return Effect.succeed({ enabled: false, reason: "denied" })
        return Effect.promise(() => client.getBooleanDetails(RealtimeFlag, false, { targetingKey: userId })).pipe(
          Effect.map((details) => ({
            enabled: details.value,
            reason: ownProvider ? heraldReason(details.variant) : "provider"
          }))
        )
      })
    const isEnabled = (userId: UserId) => Effect.map(evaluate(userId), (evaluation) => evaluation.enabled)

    return RolloutFlag.of({
      isEnabled,
      evaluate,
      current: Effect.sync(() => state),
      change: (command, actor, reason) =>
        repo.change(command, actor, reason).pipe(Effect.tap((next) => Effect.sync(() => adopt(next)))),
      provider: provider.metadata.name
    })
  }))
}

/** The module's default export is a provider, or a function (maybe async) returning one. */
const loadProvider = (specifier: string) =>
  Effect.tryPromise({
    try: async () => {
      const url = specifier.startsWith(".") || specifier.startsWith("/") ? pathToFileURL(resolve(specifier)).href : specifier
      const module: { readonly default?: unknown } = await import(url)
      const exported = module.default
      const candidate: unknown = typeof exported === "function" ? await exported() : exported
      return candidate
    },
    catch: (cause) => new ConfigurationError({ message: `HERALD_FLAG_PROVIDER=${specifier} could not be loaded: ${String(cause)}` })
  }).pipe(
    Effect.flatMap((candidate) =>
      isProvider(candidate)
        ? Effect.succeed(candidate)
        : Effect.fail(new ConfigurationError({
          message: `HERALD_FLAG_PROVIDER=${specifier}: its default export is not an OpenFeature provider (or a function returning one)`
        }))
    )
  )

const isProvider = (value: unknown): value is Provider =>
  typeof value === "object" && value !== null && "metadata" in value && "resolveBooleanEvaluation" in value &&
  typeof value.resolveBooleanEvaluation === "function"
