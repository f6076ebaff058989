/**
 * `herald devices list`: the devices registered for a user's push
 * notifications, through the `ListDevices` RPC.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { deviceJson, devicesTable } from "../Format.ts"
import { printRows } from "../Output.ts"
import { user } from "../SharedFlags.ts"

export const devicesList = Command.make(
  "list",
  { user: user("Whose devices to list") },
  Effect.fn("herald.devices.list")(function*({ user }) {
    const client = yield* HeraldClient
    const devices = yield* client.listDevices(user)
    yield* printRows(devices, deviceJson, devicesTable, `no devices registered to ${user}`)
  })
).pipe(
  Command.provide(HeraldClientLive),
  Command.withShortDescription("List the devices registered for a user's push notifications"),
  Command.withDescription(
    "List the devices registered for a user's push notifications: a table (long tokens shortened), " +
      "or one JSON object per device with --json (full tokens). " +
      "Example: herald devices list --user alice"
  ),
  Command.withExamples([
    { command: "herald devices list --user alice", description: "A table of alice's devices" },
    { command: "herald devices list --user alice --json", description: "One JSON line per device, with the full token" }
  ])
)
