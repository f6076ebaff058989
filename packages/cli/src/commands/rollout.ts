/**
 * `herald rollout`: the group of admin commands on the staged rollout of
 * real-time notifications: `status`, the changes (`set`, `kill`, `resume`,
 * `allow`, `unallow`, `deny`, `undeny`) and `history`.
 */
import { Command } from "effect/cli"
import { rolloutAllow } from "./rollout-allow.ts"
import { rolloutDeny } from "./rollout-deny.ts"
import { rolloutHistory } from "./rollout-history.ts"
import { rolloutKill } from "./rollout-kill.ts"
import { rolloutResume } from "./rollout-resume.ts"
import { rolloutSet } from "./rollout-set.ts"
import { rolloutStatus } from "./rollout-status.ts"
import { rolloutUnallow } from "./rollout-unallow.ts"
import { rolloutUndeny } from "./rollout-undeny.ts"

export const rollout = Command.make("rollout").pipe(
  Command.withSubcommands([
    rolloutStatus,
    rolloutSet,
    rolloutKill,
    rolloutResume,
    rolloutAllow,
    rolloutUnallow,
    rolloutDeny,
    rolloutUndeny,
    rolloutHistory
  ]),
  Command.withShortDescription("Show or change the rollout of real-time notifications (admin key)"),
  Command.withDescription(
    "Show or change the staged rollout of real-time notifications (sockets and push; users outside it get email " +
      "only): the percentage of users it is on for, the allow and deny lists and the kill switch. Every change is " +
      "audited with who made it (--actor, default your login name @ this host) and why (--reason), and applies on " +
      "every node within a second. These commands use the admin key (--admin-key, HERALD_ADMIN_KEY or the adminKey " +
      "in secrets.json), not the app key. Example: herald rollout set 25 --reason \"phase 2\""
  ),
  Command.withExamples([
    { command: "herald rollout status", description: "Percentage, kill switch, users in, triggers and exit criteria" },
    { command: "herald rollout set 25 --reason \"phase 2\"", description: "Real-time for a quarter of users" },
    { command: "herald rollout kill --reason \"socket errors\"", description: "Email only for everyone, now" },
    { command: "herald rollout allow alice", description: "Real-time for alice whatever the percentage" },
    { command: "herald rollout history --limit 10", description: "The 10 newest changes, who made them and why" }
  ])
)
