/**
 * `herald token revoke --user U`: revokes every client token issued to a
 * user so far, through the admin `RevokeClientTokens` RPC (admin key). Their
 * sockets close on every node within a second.
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { DateTime, Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { printResult } from "../Output.ts"
import { user } from "../SharedFlags.ts"

export const tokenRevoke = Command.make(
  "revoke",
  { user: user("The user whose tokens to revoke") },
  Effect.fn("herald.token.revoke")(function*({ user }) {
    const admin = yield* HeraldAdminClient
    const revoked = yield* admin.revokeClientTokens(user)
    const revokedAt = DateTime.formatIso(revoked.revokedAt)
    yield* printResult(
      { userId: revoked.userId, revokedAt },
      `revoked every token of ${revoked.userId} issued up to ${revokedAt}; their sockets close within a second`
    )
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Revoke every client token of a user and close their sockets"),
  Command.withDescription(
    "Revoke every client token issued to a user until now (a lost phone, a signed-out session): their sockets on " +
      "every node close with 4401 within a second, and those tokens are refused from then on, on sockets and /rpc/me. " +
      "Tokens issued in the same second as the revocation are refused too. Needs the admin key (--admin-key). " +
      "Prints {\"userId\",\"revokedAt\"} with --json. Example: herald token revoke --user alice"
  ),
  Command.withExamples([
    { command: "herald token revoke --user alice", description: "Sign alice out everywhere" }
  ])
)
