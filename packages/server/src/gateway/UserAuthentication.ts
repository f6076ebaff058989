/**
 * The `/rpc/me` middleware: verifies the request's client token and provides
 * its subject as `CurrentUser`.
 *
 * `UserApi` has already refused a request without a valid token with HTTP
 * 401, but the RPC server runs handlers on its own fibers, so nothing from
 * that check reaches them except the request's headers. The token is
 * therefore verified again here (an HMAC, microseconds) rather than passing
 * the user in a header, which a caller could also set inside the RPC
 * message. Whatever token ends up here must verify, so the user can only
 * ever be one a valid token names.
 */
import { Unauthorized, UserRpcs } from "@herald/domain"
import { Effect, Layer } from "effect"
import { bearerCredential } from "./Bearer.ts"
import { ClientTokens } from "./ClientTokens.ts"

export const UserAuthenticationLayer = Layer.effect(UserRpcs.UserAuthentication, Effect.gen(function*() {
  const tokens = yield* ClientTokens
  return UserRpcs.UserAuthentication.of((effect, { headers }) => {
    const credential = bearerCredential(headers["authorization"])
    if (credential === undefined) {
      return Effect.fail(new Unauthorized({ message: "missing client token: send Authorization: Bearer <client token>" }))
    }
    return tokens.verify(credential).pipe(
      Effect.mapError((rejected) => new Unauthorized({ message: rejected.message })),
      Effect.flatMap(({ userId }) => Effect.provideService(effect, UserRpcs.CurrentUser, { userId }))
    )
  })
}))
