/**
 * `herald token`: issues a client token with which a user's client opens a
 * socket (see docs/protocol.md), through the `IssueClientToken` RPC.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { DateTime, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { note, printResult } from "../Output.ts"
import { herald } from "../Root.ts"
import { intBetween, user } from "../SharedFlags.ts"
import { tokenRevoke } from "./token-revoke.ts"

const MaxTtl = 30 * 24 * 3600

export const token = Command.make(
  "token",
  {
    user: user("The user the token is for"),
    ttl: intBetween("ttl", 60, MaxTtl, `Lifetime in seconds (60-${MaxTtl}; default one hour)`).pipe(Flag.optional)
  },
  Effect.fn("herald.token")(function*({ ttl, user }) {
    const { json } = yield* herald
    const client = yield* HeraldClient
    const issued = yield* client.issueClientToken(user, Option.getOrUndefined(ttl))
    const expiresAt = DateTime.formatIso(issued.expiresAt)
    yield* printResult({ token: issued.token, expiresAt }, issued.token)
    if (!json) yield* note(`expires at ${expiresAt}`)
  })
).pipe(
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Issue a client token for a user's socket"),
  Command.withDescription(
    "Issue a signed client token with which a user's client authenticates its socket. " +
      "Prints the token alone (expiry on stderr), or {\"token\",\"expiresAt\"} with --json. " +
      "Example: herald token --user alice --ttl 600"
  ),
  Command.withExamples([
    { command: "herald token --user alice --ttl 600", description: "A token valid for ten minutes" },
    { command: "TOKEN=$(herald token --user alice)", description: "Keep it in a shell variable" },
    { command: "herald token revoke --user alice", description: "Revoke alice's tokens and close her sockets" }
  ]),
  Command.withSubcommands([tokenRevoke])
)
