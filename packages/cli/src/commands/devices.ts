/**
 * `herald devices`: the group of `add`, `remove` and `list`, the devices a
 * user's push notifications go to.
 */
import { Command } from "effect/cli"
import { devicesAdd } from "./devices-add.ts"
import { devicesList } from "./devices-list.ts"
import { devicesRemove } from "./devices-remove.ts"

export const devices = Command.make("devices").pipe(
  Command.withSubcommands([devicesAdd, devicesRemove, devicesList]),
  Command.withShortDescription("Register, remove or list a user's push devices"),
  Command.withDescription(
    "Manage the devices (FCM registration tokens) a user's push notifications go to: add, remove, list. " +
      "Example: herald devices list --user alice"
  ),
  Command.withExamples([
    {
      command: "herald devices add --user alice --token fcm-token-from-the-app --platform ios",
      description: "Register alice's iPhone"
    },
    { command: "herald devices list --user alice", description: "List alice's devices" }
  ])
)
