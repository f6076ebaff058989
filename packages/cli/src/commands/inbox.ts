/**
 * `herald inbox`: one page of a user's inbox, newest first, through the
 * `ListInbox` RPC.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { AppRpcs } from "@herald/domain"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { inboxJson, inboxTable } from "../Format.ts"
import { note, printRows } from "../Output.ts"
import { herald } from "../Root.ts"
import { cursor, intBetween, user } from "../SharedFlags.ts"

export const inbox = Command.make(
  "inbox",
  {
    user: user("Whose inbox to list"),
    unread: Flag.Boolean("unread").pipe(Flag.withDefault(false), Flag.withDescription("Only unread notifications")),
    limit: intBetween("limit", 1, AppRpcs.MaxInboxPage, `How many notifications to list (1-${AppRpcs.MaxInboxPage})`)
      .pipe(Flag.optional),
    before: cursor("before", "Only notifications older than this cursor (for the next page)").pipe(Flag.optional)
  },
  Effect.fn("herald.inbox")(function*({ before, limit, unread, user }) {
    const { json } = yield* herald
    const client = yield* HeraldClient
    const page = yield* client.listInbox({
      userId: user,
      ...(unread ? { unreadOnly: true } : {}),
      ...(Option.isSome(limit) ? { limit: limit.value } : {}),
      ...(Option.isSome(before) ? { before: before.value } : {})
    })
    yield* printRows(page.items, inboxJson, inboxTable, `no ${unread ? "unread " : ""}notifications for ${user}`)
    // The hint is for people; a script pages with --before itself.
    if (!json && page.nextBefore !== null) {
      yield* note(`older: herald inbox --user ${user}${unread ? " --unread" : ""} --before ${page.nextBefore}`)
    }
  })
).pipe(
  Command.provide(HeraldClientLive),
  Command.withShortDescription("List a user's notifications, newest first"),
  Command.withDescription(
    "List a page of a user's notifications, newest first: a table, or one JSON object per line with --json. " +
      "Example: herald inbox --user alice --unread --limit 20"
  ),
  Command.withExamples([
    { command: "herald inbox --user alice --unread --limit 20", description: "The 20 newest unread notifications" },
    { command: "herald inbox --user alice --before 40 --json", description: "The page older than cursor 40, as JSON lines" }
  ])
)
