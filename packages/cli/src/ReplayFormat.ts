/**
 * How `herald replay` shows its plan (`--dry-run`) and its summary: tables
 * for people, one JSON object for `--json`.
 */
import type { ReplayCounts, ReplayPlan, ReplayStateCounts } from "@herald/domain"
import { table } from "./Format.ts"

const number = (n: number) => n.toLocaleString("en-US")

/** A plan as the `--json` line of `herald replay --dry-run`. */
export const planJson = (plan: ReplayPlan, force: boolean) => ({
  dryRun: true,
  replayId: plan.run.replayId,
  selected: plan.selected,
  inApp: plan.inApp,
  push: plan.push,
  email: plan.email,
  alreadySent: plan.alreadySent,
  wouldSkip: force ? 0 : plan.alreadySent,
  channelsOff: plan.channelsOff
})

const stateRows = (channel: string, counts: ReplayStateCounts, force: boolean): Array<Array<string>> => {
  const rows: Array<readonly [string, number, string]> = [
    ["failed", counts.failed, "send again (fresh attempts)"],
    ["dead", counts.dead, "send again (fresh attempts)"],
    ["sent", counts.sent, force ? "send again (--force)" : "skip (already sent; --force sends again)"]
  ]
  return rows.filter(([, n]) => n > 0).map(([state, n, action]) => [channel, state, number(n), action])
}

/** A plan for people: what each channel and state holds and what the replay would do with it. */
export const planLines = (plan: ReplayPlan, force: boolean): ReadonlyArray<string> => {
  if (plan.selected === 0) return ["nothing to replay: no delivery matches"]
  const rows = [
    ...stateRows("push", plan.push, force),
    ...stateRows("email", plan.email, force),
    ...(plan.inApp > 0 ? [["in_app", "stored", number(plan.inApp), "write to open sockets (clients drop ids they have shown)"]] : [])
  ]
  const skip = force ? 0 : plan.alreadySent
  return [
    ...table(["CHANNEL", "STATE", "COUNT", "ACTION"], rows),
    ...channelsOffLines(plan),
    `${number(plan.selected)} selected${skip > 0 ? `, ${number(skip)} would be skipped` : ""} (dry run: nothing changed)`
  ]
}

/** A warning per selected channel the server has not configured: its deliveries are skipped. */
export const channelsOffLines = (plan: ReplayPlan): ReadonlyArray<string> =>
  plan.channelsOff
    .filter((channel) => {
      const counts = channel === "push" ? plan.push : plan.email
      return counts.failed + counts.dead + counts.sent > 0
    })
    .map((channel) => `${channel} is not configured on the server: its deliveries are skipped and stay as they are`)

/** One line saying what is about to be replayed. */
export const planHeadline = (plan: ReplayPlan, force: boolean): string => {
  const parts = [
    plan.push.failed + plan.push.dead > 0 ? `${number(plan.push.failed + plan.push.dead)} push` : "",
    plan.email.failed + plan.email.dead > 0 ? `${number(plan.email.failed + plan.email.dead)} email` : "",
    plan.inApp > 0 ? `${number(plan.inApp)} in-app` : "",
    plan.alreadySent > 0 ? `${number(plan.alreadySent)} already sent (${force ? "sent again: --force" : "skipped"})` : ""
  ].filter((part) => part !== "")
  return `replaying ${number(plan.selected)} items: ${parts.join(", ")}`
}

export interface ReplaySummary {
  readonly counts: ReplayCounts
  readonly complete: boolean
  /** Where to go on from, when not complete. */
  readonly resume: string | null
  readonly seconds: number
}

/** The summary as the `--json` line of `herald replay`. */
export const summaryJson = (summary: ReplaySummary) => ({
  ...summary.counts,
  complete: summary.complete,
  resume: summary.resume,
  seconds: Math.round(summary.seconds * 10) / 10
})

/** The summary for people: a table of the counts, then what to do about anything left. */
export const summaryLines = (summary: ReplaySummary, force: boolean): ReadonlyArray<string> => {
  const { counts } = summary
  const lines = [
    ...table(
      ["SELECTED", "DELIVERED", "FAILED", "QUEUED", "SKIPPED", "FORCED"],
      [[counts.selected, counts.delivered, counts.failed, counts.queued, counts.skipped, counts.forced].map(number)]
    ),
    summary.complete
      ? `replay complete in ${summary.seconds.toFixed(1)} s`
      : `replay stopped after ${summary.seconds.toFixed(1)} s; resume with: herald replay --resume ${summary.resume ?? ""}`
  ]
  if (counts.failed > 0) {
    lines.push(`${number(counts.failed)} failed again: retried later on the normal path, or dead or discarded (see herald deadletters list)`)
  }
  if (counts.queued > 0) lines.push(`${number(counts.queued)} not attempted yet; the delivery worker sends them shortly`)
  if (counts.skipped > 0 && !force) {
    lines.push(
      `${number(counts.skipped)} skipped: push or email already sent (--force sends them again) or not configured, or in-app off for the user now`
    )
  }
  return lines
}
