/**
 * `herald devices add`: registers a device's FCM registration token for a
 * user's push notifications, through the `RegisterDevice` RPC.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { Platform } from "@herald/domain"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { deviceJson } from "../Format.ts"
import { printResult } from "../Output.ts"
import { deviceToken, user } from "../SharedFlags.ts"

export const devicesAdd = Command.make(
  "add",
  {
    user: user("The user whose device it is"),
    token: deviceToken("The device's FCM registration token"),
    platform: Flag.Literals("platform", Platform.literals).pipe(
      Flag.withMetavar("PLATFORM"),
      Flag.withDescription("What the device runs")
    )
  },
  Effect.fn("herald.devices.add")(function*({ platform, token, user }) {
    const client = yield* HeraldClient
    const device = yield* client.registerDevice(user, token, platform)
    yield* printResult(deviceJson(device), `registered ${device.platform} device ${device.token} to ${device.userId}`)
  })
).pipe(
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Register a device for a user's push notifications"),
  Command.withDescription(
    "Register a device's FCM registration token for a user's push notifications and print it; " +
      "with --json, {\"userId\",\"token\",\"platform\",\"createdAt\"}. A token registered to another user moves to this one. " +
      "Example: herald devices add --user alice --token fcm-token-from-the-app --platform android"
  ),
  Command.withExamples([
    {
      command: "herald devices add --user alice --token fcm-token-from-the-app --platform android",
      description: "Register alice's Android phone"
    },
    { command: "herald devices add --user alice --token \"$TOKEN\" --platform web --json", description: "Print the device as JSON" }
  ])
)
