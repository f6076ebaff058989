/**
 * How the rollout flag looks on the command line (`herald rollout …`): the
 * JSON line shapes (the wire encoding of the domain's `RolloutStatus`,
 * `RolloutState` and `RolloutChange`) and the lines for people.
 */
import { type Criterion, decimals, measureText as formatMeasure, type RolloutChange, type RolloutState, type RolloutStatus } from "@herald/domain"
import { DateTime } from "effect"
import { localDateTime, oneLine, table } from "./Format.ts"

/** The flag's state as a `--json` line of the change commands: as the server encodes it. */
export const rolloutStateJson = (s: RolloutState) => ({
  flag: s.flag,
  percentage: s.percentage,
  killed: s.killed,
  allow: [...s.allow],
  deny: [...s.deny],
  version: s.version,
  updatedAt: DateTime.formatIso(s.updatedAt),
  updatedBy: s.updatedBy
})

const criterionJson = (c: Criterion) => ({
  name: c.name,
  description: c.description,
  value: c.value,
  threshold: c.threshold,
  unit: c.unit,
  status: c.status
})

/** The `--json` line of `herald rollout status`: the whole status, as the server encodes it. */
export const rolloutStatusJson = (s: RolloutStatus) => ({
  state: rolloutStateJson(s.state),
  nodeVersion: s.nodeVersion,
  users: { known: s.users.known, enabled: s.users.enabled },
  provider: s.provider,
  guard: {
    windowSeconds: s.guard.windowSeconds,
    triggers: s.guard.triggers.map(criterionJson),
    exitCriteria: s.guard.exitCriteria.map(criterionJson)
  }
})

/** One audited change as a `--json` line of `herald rollout history`. */
export const rolloutChangeJson = (c: RolloutChange) => ({
  id: c.id,
  at: DateTime.formatIso(c.at),
  actor: c.actor,
  action: c.action,
  userId: c.userId,
  reason: c.reason,
  from: rolloutStateJson(c.from),
  to: rolloutStateJson(c.to)
})


/** `25%`, `12.5%`, `0.01%`: a rollout percentage (the server keeps two decimals). */
export const percentageText = (percentage: number): string => `${decimals(percentage, 2)}%`

/** A criterion's value or threshold in its unit: ratios as percentages (`0.5%`), milliseconds as `120 ms`. */
export const measureText = (value: number, unit: string): string => formatMeasure(value, unit, "%")

/** `5 min`, `1 h`, `90 s`: the guard's sliding window. */
export const windowText = (seconds: number): string =>
  seconds > 0 && seconds % 3600 === 0
    ? `${seconds / 3600} h`
    : seconds > 0 && seconds % 60 === 0
    ? `${seconds / 60} min`
    : `${decimals(seconds, 1)} s`

const killSwitchText = (killed: boolean) => killed ? "ON" : "off"

/** `alice, bob and 3 more`, or `none`. */
const usersText = (users: ReadonlyArray<string>, shown: number): string => {
  if (users.length === 0) return "none"
  const listed = users.slice(0, shown).join(", ")
  return users.length > shown ? `${listed} and ${users.length - shown} more` : listed
}

/** The state after a change, on one line: `25%, kill switch off, allowed: alice, denied: none (version 7)`. */
export const rolloutStateLine = (s: RolloutState): string =>
  `${percentageText(s.percentage)}, kill switch ${killSwitchText(s.killed)}, ` +
  `allowed: ${usersText(s.allow, 5)}, denied: ${usersText(s.deny, 5)} (version ${s.version})`

const criteriaTable = (criteria: ReadonlyArray<Criterion>): ReadonlyArray<string> =>
  criteria.length === 0 ? ["  (none)"] : table(
    ["NAME", "VALUE", "THRESHOLD", "STATUS", "WHAT"],
    criteria.map((c) => [
      c.name,
      c.value === null ? "-" : measureText(c.value, c.unit),
      measureText(c.threshold, c.unit),
      c.status,
      c.description
    ])
  ).map((line) => `  ${line}`)

// A node catches up with a change within a second; saying so explains a status read in between.
const versionText = (s: RolloutStatus) =>
  s.nodeVersion >= s.state.version
    ? `version ${s.state.version}`
    : `version ${s.state.version}; the answering node still applies ${s.nodeVersion}`

/**
 * The rollout for people: the flag's settings and how many users are in,
 * then the rollback triggers and the exit criteria with their live values
 * over the guard's window.
 */
export const rolloutStatusLines = (s: RolloutStatus): ReadonlyArray<string> => {
  const window = windowText(s.guard.windowSeconds)
  return [
    `flag:         ${s.state.flag} (provider ${s.provider})`,
    `percentage:   ${percentageText(s.state.percentage)}`,
    `kill switch:  ${killSwitchText(s.state.killed)}`,
    `users in:     ${s.users.enabled} of ${s.users.known} known`,
    `allowed:      ${usersText(s.state.allow, 20)}`,
    `denied:       ${usersText(s.state.deny, 20)}`,
    `last change:  ${localDateTime(s.state.updatedAt)} by ${s.state.updatedBy} (${versionText(s)})`,
    `rollback triggers over the last ${window} (a fail trips the kill switch):`,
    ...criteriaTable(s.guard.triggers),
    `exit criteria over the last ${window} (reported, never acted on):`,
    ...criteriaTable(s.guard.exitCriteria)
  ]
}

const yesNo = (value: boolean) => value ? "yes" : "no"

/** What a change did: `5% → 25%`, `killed: no → yes`, `allowed: no → yes`. */
export const changeSummary = (c: RolloutChange): string => {
  const listed = (users: ReadonlyArray<string>) => c.userId !== null && users.includes(c.userId)
  switch (c.action) {
    case "set":
      return `${percentageText(c.from.percentage)} → ${percentageText(c.to.percentage)}`
    case "kill":
    case "resume":
      return `killed: ${yesNo(c.from.killed)} → ${yesNo(c.to.killed)}`
    case "allow":
    case "unallow":
      return `allowed: ${yesNo(listed(c.from.allow))} → ${yesNo(listed(c.to.allow))}`
    case "deny":
    case "undeny":
      return `denied: ${yesNo(listed(c.from.deny))} → ${yesNo(listed(c.to.deny))}`
  }
}

/** Audited changes, in the order given (the server's: newest first), as a table with a header row. */
export const rolloutHistoryTable = (changes: ReadonlyArray<RolloutChange>): ReadonlyArray<string> =>
  table(
    ["TIME", "ACTOR", "ACTION", "CHANGE", "REASON"],
    changes.map((c) => [
      localDateTime(c.at),
      c.actor,
      c.userId === null ? c.action : `${c.action} ${c.userId}`,
      changeSummary(c),
      c.reason === null ? "-" : oneLine(c.reason)
    ])
  )
