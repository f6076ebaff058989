/**
 * `herald send`: publishes one notification through the `Notify` RPC and
 * prints what it became.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { NotificationKind } from "@herald/domain"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { printResult } from "../Output.ts"
import { user } from "../SharedFlags.ts"

const text = (name: string, metavar: string, description: string) =>
  Flag.String(name).pipe(Flag.withMetavar(metavar), Flag.withDescription(description))

export const send = Command.make(
  "send",
  {
    user: user("Recipient user id"),
    kind: Flag.Literals("kind", NotificationKind.literals).pipe(
      Flag.withMetavar("KIND"),
      Flag.withDescription("What happened")
    ),
    title: text("title", "TEXT", "Title shown to the user (1-200 characters)"),
    body: text("body", "TEXT", "Longer text (up to 4000 characters)").pipe(Flag.optional),
    link: text("link", "URL", "Where the notification leads: an http(s) URL or an absolute path").pipe(Flag.optional),
    actor: text("actor", "NAME", "Who caused it, for example bob").pipe(Flag.optional),
    key: text("key", "IDEMPOTENCY_KEY", "Idempotency key: sending again with the same key stores and delivers nothing new")
      .pipe(Flag.optional)
  },
  Effect.fn("herald.send")(function*({ actor, body, key, kind, link, title, user }) {
    const client = yield* HeraldClient
    const result = yield* client.notify({
      userId: user,
      kind,
      title,
      ...(Option.isSome(body) ? { body: body.value } : {}),
      ...(Option.isSome(link) ? { link: link.value } : {}),
      ...(Option.isSome(actor) ? { actor: actor.value } : {}),
      ...(Option.isSome(key) ? { idempotencyKey: key.value } : {})
    })
    yield* printResult(
      { id: result.id, cursor: result.cursor, deduplicated: result.deduplicated },
      result.deduplicated
        ? `already sent: ${result.id} to ${result.userId} (cursor ${result.cursor}); same key, nothing delivered again`
        : `sent ${result.id} to ${result.userId} (cursor ${result.cursor})`
    )
  })
).pipe(
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Publish one notification to a user"),
  Command.withDescription(
    "Publish one notification to a user and print one line with its id, the user and its cursor " +
      "(\"already sent: …\" when --key was used before); with --json, {\"id\",\"cursor\",\"deduplicated\"}. " +
      "Example: herald send --user alice --kind mention --title \"Bob mentioned you\" --link /m/42 --key m-42"
  ),
  Command.withExamples([
    {
      command: "herald send --user alice --kind mention --title \"Bob mentioned you\" --actor bob --link /m/42 --key m-42",
      description: "Publish a mention; repeating it with the same --key delivers nothing new"
    },
    { command: "herald send --user alice --kind status_update --title \"Build passed\" --json", description: "Print the result as JSON" }
  ])
)
