/**
 * The flag's state and its controls: percentage with the phase steps
 * (5/25/50/100) and a field for any value, the kill switch (behind its
 * confirmation dialog) and resume. The reason typed here goes with every
 * change into the audit history.
 */
import type { RolloutCommandInput } from "@herald/client"
import { Percentage, type RolloutStatus } from "@herald/domain"
import { Schema } from "effect"
import { h, replace } from "../dom.ts"
import { decodeField, field } from "../field.ts"
import { dateTime, percentageText } from "../format.ts"
import type { KillDialog } from "./killDialog.ts"

export interface FlagPanel {
  readonly element: HTMLElement
  readonly show: (status: RolloutStatus) => void
  /** The reason typed for the next change (empty: none). */
  readonly reason: () => string
}

/** Sends a change; resolves to whether it was applied. */
export type ChangeRollout = (command: RolloutCommandInput, reason: string) => Promise<boolean>

const phases = [5, 25, 50, 100] as const
const decodePercentage = Schema.decodeUnknownExit(Schema.NumberFromString.pipe(Schema.decodeTo(Percentage)))

const summaryItem = (term: string, value: HTMLElement) => h("div", {}, [h("dt", {}, [term]), value])

export const makeFlagPanel = (change: ChangeRollout, dialog: KillDialog): FlagPanel => {
  const percentage = h("dd", { class: "big", id: "flag-percentage" })
  const killed = h("dd", { id: "flag-killed" })
  const users = h("dd")
  const version = h("dd")
  const reasonField = field("Reason for the change", h("input", { id: "change-reason", maxlength: 500 }), "Kept in the audit history with the actor web-admin.")
  const reason = () => reasonField.control.value.trim()

  const apply = (command: RolloutCommandInput) =>
    change(command, reason()).then((applied) => {
      if (applied) reasonField.control.value = ""
      return applied
    })

  const phaseButtons = phases.map((value) =>
    h("button", { type: "button", "aria-pressed": "false", "data-percentage": value }, [`${value} %`], {
      click: () => void apply({ action: "set", percentage: value })
    })
  )

  const custom = field("Any percentage (0–100)", h("input", { type: "number", id: "custom-percentage", min: 0, max: 100, step: 0.01, inputmode: "decimal" }))
  const customForm = h("form", { class: "inline-form", novalidate: true }, [
    custom.element,
    h("button", { type: "submit" }, ["Set percentage"])
  ], {
    submit: (event) => {
      event.preventDefault()
      const percentage = decodeField(custom, decodePercentage, "Enter a number from 0 to 100.")
      if (percentage === undefined) return
      void apply({ action: "set", percentage }).then((applied) => {
        if (applied) custom.control.value = ""
      })
    }
  })

  const killButton = h("button", { type: "button", class: "danger" }, ["Kill switch…"], {
    click: () =>
      dialog.open((dialogReason) => {
        dialog.setBusy(true)
        void change({ action: "kill" }, dialogReason).then((applied) => {
          dialog.setBusy(false)
          if (applied) dialog.close()
        })
      })
  })
  const resumeButton = h("button", { type: "button", class: "primary" }, ["Resume"], {
    click: () => void apply({ action: "resume" })
  })
  const switchSlot = h("div", { class: "actions" })

  const element = h("section", { class: "card stack", "aria-labelledby": "flag-title" }, [
    h("h2", { id: "flag-title" }, ["Real-time notifications"]),
    h("dl", { class: "summary" }, [
      summaryItem("Rollout", percentage),
      summaryItem("Kill switch", killed),
      summaryItem("Users in", users),
      summaryItem("Version", version)
    ]),
    reasonField.element,
    h("div", { class: "button-group", role: "group", "aria-labelledby": "phase-label" }, [
      h("span", { id: "phase-label", class: "group-label" }, ["Phase"]),
      ...phaseButtons
    ]),
    customForm,
    switchSlot
  ])

  return {
    element,
    reason,
    show: (status) => {
      const state = status.state
      percentage.textContent = percentageText(state.percentage)
      killed.textContent = state.killed ? "ON: real-time notifications are off for every user" : "Off"
      killed.classList.toggle("state-bad", state.killed)
      users.textContent = `${status.users.enabled} of ${status.users.known} known users`
      version.textContent = `${state.version}, changed ${dateTime(state.updatedAt)} by ${state.updatedBy}` +
        (status.nodeVersion === state.version ? "" : ` (this node still applies ${status.nodeVersion})`)
      for (const button of phaseButtons) {
        button.setAttribute("aria-pressed", String(Number(button.dataset["percentage"]) === state.percentage))
      }
      const wanted = state.killed ? resumeButton : killButton
      if (switchSlot.firstElementChild !== wanted) {
        // Keep keyboard focus on the switch when it flips from one button to the other.
        const hadFocus = switchSlot.contains(document.activeElement)
        replace(switchSlot, [wanted])
        if (hadFocus) wanted.focus()
      }
    }
  }
}
