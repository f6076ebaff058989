/**
 * A read of one value per user, batched across every fiber that asks in the
 * same scheduler tick (effect's `RequestResolver`): a reconnect storm of
 * 10,000 sockets, or a burst of mailboxes waking at once, costs the
 * database a statement per thousand users rather than one per user.
 */
import type { StorageUnavailable, UserId } from "@herald/domain"
import { Array as Arr, Effect, Exit, Request, RequestResolver } from "effect"

interface ByUser<A> extends Request.Request<A, StorageUnavailable> {
  readonly userId: UserId
}

const MaxUsersPerStatement = 1_000

/** `read` answers for the users it finds; the others get `missing(userId)`. */
export const batchedByUser = <A>(
  read: (userIds: Arr.NonEmptyReadonlyArray<UserId>) => Effect.Effect<ReadonlyMap<string, A>, StorageUnavailable>,
  missing: (userId: UserId) => A
): (userId: UserId) => Effect.Effect<A, StorageUnavailable> => {
  const request = Request.of<ByUser<A>>()
  const resolver = RequestResolver.make<ByUser<A>>((entries) =>
    read(Arr.dedupe(Arr.map(entries, (entry) => entry.request.userId))).pipe(
      Effect.match({
        onFailure: (error) => entries.forEach((entry) => entry.completeUnsafe(Exit.fail(error))),
        onSuccess: (found) => entries.forEach((entry) => entry.completeUnsafe(Exit.succeed(found.get(entry.request.userId) ?? missing(entry.request.userId))))
      })
    )
  ).pipe(RequestResolver.batchN(MaxUsersPerStatement))
  return (userId) => Effect.request(request({ userId }), resolver)
}
