/**
 * `herald digest preview`: what a user's digest would contain if it were sent
 * now, and when it is due, through the admin `PreviewDigest` RPC (admin key).
 * Nothing is sent or changed.
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { HeraldAdminClientLive } from "../Connection.ts"
import { digestPreviewJson, digestPreviewLines } from "../Format.ts"
import { printResult } from "../Output.ts"
import { user } from "../SharedFlags.ts"

export const digestPreview = Command.make(
  "preview",
  { user: user("Whose digest to preview") },
  Effect.fn("herald.digest.preview")(function*({ user }) {
    const admin = yield* HeraldAdminClient
    const preview = yield* admin.previewDigest(user)
    yield* printResult(digestPreviewJson(preview), digestPreviewLines(preview))
  })
).pipe(
  Command.provide(HeraldAdminClientLive),
  Command.withShortDescription("Show what a user's next digest contains and when it is due"),
  Command.withDescription(
    "Show what a user's email digest would contain if it were sent now: the address it goes to, when it is due " +
      "(local time), then its notifications grouped by kind, newest first, with a count per kind. Nothing is sent. " +
      "With --json, one object with userId, emailAddress, dueAt (ISO, or null) and items (as herald inbox --json). " +
      "Needs the admin key (--admin-key). Example: herald digest preview --user alice"
  ),
  Command.withExamples([
    { command: "herald digest preview --user alice", description: "alice's waiting digest, grouped by kind" },
    { command: "herald digest preview --user alice --json", description: "The same as one JSON object" }
  ])
)
