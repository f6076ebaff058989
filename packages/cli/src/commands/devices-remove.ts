/**
 * `herald devices remove`: forgets a device token of a user, through the
 * `UnregisterDevice` RPC.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { printResult } from "../Output.ts"
import { deviceToken, user } from "../SharedFlags.ts"

export const devicesRemove = Command.make(
  "remove",
  {
    user: user("The user whose device it is"),
    token: deviceToken("The device's FCM registration token")
  },
  Effect.fn("herald.devices.remove")(function*({ token, user }) {
    const client = yield* HeraldClient
    const removed = yield* client.unregisterDevice(user, token)
    yield* printResult({ removed }, removed ? "removed" : `not registered to ${user}`)
  })
).pipe(
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Stop a user's push notifications to a device"),
  Command.withDescription(
    "Forget a device token of a user, so no more pushes go to it. Prints \"removed\", or \"not registered to USER\" " +
      "(still exit 0); with --json, {\"removed\":true|false}. " +
      "Example: herald devices remove --user alice --token fcm-token-from-the-app"
  ),
  Command.withExamples([
    { command: "herald devices remove --user alice --token fcm-token-from-the-app", description: "Forget one device" },
    { command: "herald devices remove --user alice --token \"$TOKEN\" --json", description: "Print {\"removed\":...}" }
  ])
)
