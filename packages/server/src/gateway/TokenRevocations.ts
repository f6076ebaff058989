/**
 * Which client tokens are revoked, known on every node without a query per
 * socket: the node loads the revocations at start and then polls for new
 * ones twice a second (one indexed read), so a revocation made on any node
 * closes the user's sockets everywhere within a second.
 *
 * A token is refused when it was issued at or before its user's revocation,
 * in whole seconds (a JWT's `iat`), so one issued in the same second as the
 * revocation is refused too: the safe side of the rounding.
 */
import { type StorageUnavailable, type UserId } from "@herald/domain"
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { type Revocation, TokenRevocationRepo } from "../storage/TokenRevocationRepo.ts"

const PollInterval = Duration.millis(500)

export type RevocationListener = (revocation: Revocation) => void

export class TokenRevocations extends Context.Service<TokenRevocations, {
  /** True when a token of `userId` issued at `issuedAtSeconds` (its `iat`) is revoked. */
  isRevoked(userId: UserId, issuedAtSeconds: number): boolean
  /** Revokes the user's tokens and tells this node's listeners at once (other nodes on their next poll). */
  revoke(userId: UserId): Effect.Effect<Revocation, StorageUnavailable>
  /** Called for every revocation this node learns of, possibly more than once for the same one. */
  onRevoked(listener: RevocationListener): void
}>()("@herald/server/gateway/TokenRevocations") {
  static readonly layer = Layer.effect(TokenRevocations, Effect.gen(function*() {
    const repo = yield* TokenRevocationRepo
    const revokedAt = new Map<UserId, number>()
    const listeners: Array<RevocationListener> = []
    let newest = 0

    const learn = (revocation: Revocation) => {
      if ((revokedAt.get(revocation.userId) ?? 0) < revocation.revokedAt) revokedAt.set(revocation.userId, revocation.revokedAt)
      if (revocation.revokedAt > newest) newest = revocation.revokedAt
      for (const listener of listeners) listener(revocation)
    }

    for (const revocation of yield* repo.all.pipe(Effect.orDie)) learn(revocation)
    if (newest === 0) newest = Date.now()

    const poll = Effect.suspend(() => repo.since(newest)).pipe(
      Effect.map((found) => found.forEach(learn)),
      // A failed poll is retried on the next tick; sockets stay as they are meanwhile.
      Effect.catch((error) => Effect.logWarning("cannot read token revocations", error.message))
    )
    yield* Effect.forkScoped(Effect.repeat(poll, Schedule.spaced(PollInterval)))

    return TokenRevocations.of({
      isRevoked: (userId, issuedAtSeconds) => {
        const at = revokedAt.get(userId)
        return at !== undefined && issuedAtSeconds * 1000 <= at
      },
      revoke: (userId) => repo.revoke(userId).pipe(Effect.tap((revocation) => Effect.sync(() => learn(revocation)))),
      onRevoked: (listener) => {
        listeners.push(listener)
      }
    })
  }))
}
