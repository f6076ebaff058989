/**
 * `herald tail`: connects to a user's notification socket, like the user's
 * own client would, and prints each notification the moment it arrives.
 *
 * The token comes from `IssueClientToken` with the app API key; it is fetched
 * once up front (so a wrong key or an unreachable server fails at once, with
 * one line) and again on every reconnect, so a long tail survives token
 * expiry and server restarts. Status lines ("listening…", "reconnecting…")
 * go to stderr so that `--json` stdout carries notifications only.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { NotificationSocket, type SocketState } from "@herald/client/NotificationSocket"
import type { UserId } from "@herald/domain"
import { Duration, Effect, Option, Schedule, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { HeraldClientLive } from "../Connection.ts"
import { notificationJson, notificationLine } from "../Format.ts"
import { note, stdoutLine } from "../Output.ts"
import { herald } from "../Root.ts"
import { cursor, positiveInt, user } from "../SharedFlags.ts"

/** The socket endpoint of the server at `url`: `http` becomes `ws`, `https` becomes `wss`, path `/ws`. */
export const socketUrl = (url: string): string => `${url.replace(/^http/, "ws").replace(/\/+$/, "")}/ws`

// Retried only while the server is briefly away; a refused key cannot get better by waiting.
const renewRetry = Schedule.min([Schedule.exponential("250 millis"), Schedule.spaced("30 seconds")])

// Status goes to stderr; "listening…" tells a script the socket is open and it can start publishing.
const printStates = Effect.fnUntraced(function*(
  states: Stream.Stream<SocketState>,
  userId: UserId,
  wsUrl: string
) {
  let opened = false
  let retrying = false
  yield* Stream.runForEach(states, (state) => {
    switch (state) {
      case "open": {
        const line = opened
          ? `reconnected to ${wsUrl}`
          : `listening for ${userId} at ${wsUrl} (Ctrl-C to stop)`
        opened = true
        return note(line)
      }
      case "reconnecting": {
        if (opened) return note(`connection to ${wsUrl} lost; reconnecting…`)
        if (retrying) return Effect.void
        retrying = true
        return note(`cannot open ${wsUrl} yet; retrying…`)
      }
      default:
        return Effect.void
    }
  })
})

export const tail = Command.make(
  "tail",
  {
    user: user("Whose notifications to watch"),
    count: positiveInt("count", "N", "Stop after N notifications (exit 0)").pipe(Flag.optional),
    resume: cursor("resume", "First replay every notification after this cursor, then follow live ones").pipe(
      Flag.optional
    ),
    timeout: positiveInt("timeout", "SECONDS", "Stop after SECONDS seconds (exit 0); default: run until Ctrl-C").pipe(
      Flag.optional
    )
  },
  Effect.fn("herald.tail")(function*({ count, resume, timeout, user }) {
    const { json, url } = yield* herald
    const client = yield* HeraldClient
    const wsUrl = socketUrl(url)

    const watch = Effect.gen(function*() {
      let fetched: string | undefined = (yield* client.issueClientToken(user)).token
      const token = Effect.suspend(() => {
        const first = fetched
        fetched = undefined
        return first !== undefined ? Effect.succeed(first) : client.issueClientToken(user).pipe(
          Effect.map((issued) => issued.token),
          Effect.retry({
            schedule: renewRetry,
            while: (error) => error._tag === "ServerUnreachable" || error._tag === "StorageUnavailable"
          }),
          // Unauthorized or invalid: reconnecting cannot help; ends the tail with that error.
          Effect.orDie
        )
      })
      const socket = yield* NotificationSocket.make({
        url: wsUrl,
        token,
        resumeFrom: Option.getOrUndefined(resume),
        // A maintainer watching is not the user's client: acks would mark the user's notifications delivered.
        ack: false
      })
      yield* Effect.forkScoped(printStates(socket.stateChanges, user, wsUrl))
      const notifications = Option.isSome(count) ? Stream.take(socket.notifications, count.value) : socket.notifications
      yield* Stream.runForEach(
        notifications,
        (n) => stdoutLine(json ? JSON.stringify(notificationJson(n)) : notificationLine(n))
      )
    }).pipe(Effect.scoped)

    yield* Option.isSome(timeout)
      ? watch.pipe(Effect.timeoutOrElse({ duration: Duration.seconds(timeout.value), orElse: () => Effect.void }))
      : watch
  })
).pipe(
  Command.provide(HeraldClientLive),
  Command.withShortDescription("Print a user's notifications live, as their socket receives them"),
  Command.withDescription(
    "Open a socket as the user's client would and print one line per notification as it arrives " +
      "(time, kind, title; or a JSON object with --json). It does not ack, so the user's delivery state is untouched. " +
      "Runs until Ctrl-C, --count notifications or --timeout seconds. " +
      "Example: herald tail --user alice --count 1 --timeout 30 --json"
  ),
  Command.withExamples([
    { command: "herald tail --user alice", description: "Watch alice's notifications until Ctrl-C" },
    {
      command: "herald tail --user alice --resume 40 --count 5 --json",
      description: "Replay what came after cursor 40, then live ones, stopping after five"
    },
    { command: "herald tail --user alice --timeout 60", description: "Watch for one minute" }
  ])
)
