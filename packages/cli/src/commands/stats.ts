/**
 * `herald stats`: cluster-wide delivery stats over the last minute, 5 minutes
 * or hour, through the admin `GetStats` RPC (admin key). Any node gives the
 * same answer.
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { StatsWindow } from "@herald/domain"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { printResult } from "../Output.ts"
import { statsJson, statsLines } from "../StatsFormat.ts"

export const stats = Command.make(
  "stats",
  {
    window: Flag.Literals("window", StatsWindow.literals).pipe(
      Flag.withMetavar("WINDOW"),
      Flag.withDescription("How far back: 1m, 5m or 1h, in whole minutes (default 5m)"),
      Flag.withDefault("5m")
    )
  },
  Effect.fn("herald.stats")(function*({ window }) {
    const admin = yield* HeraldAdminClient
    const result = yield* admin.getStats(window)
    yield* printResult(statsJson(result), statsLines(result))
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Show delivery stats of the whole cluster: latency per channel, sockets, dead letters"),
  Command.withDescription(
    "Show delivery stats summed over every node for the last 1m, 5m (default) or 1h: per channel (in_app, push, " +
      "email, digest) and for client acks, how many and the p50/p95/p99 latency from the publish being accepted; " +
      "socket sessions with their error and reconnection rates; push and email deliveries sent, failed and dead; " +
      "dead letters; emails sent against in-app frames delivered; duplicate pushes and lost notifications; and how " +
      "many nodes reported. Windows are whole minutes, so 1m covers the current minute and the previous one. " +
      "With --json, the whole answer as one JSON object. Needs the admin key (--admin-key). Example: herald stats --window 1h"
  ),
  Command.withExamples([
    { command: "herald stats", description: "The last 5 minutes" },
    { command: "herald stats --window 1m --json", description: "The last minute, as one JSON object" }
  ])
)
