/**
 * The preferences form: the kinds × channels matrix (a real table, with a
 * visually hidden label on every control), where email goes (the app sets
 * the address; a user's page cannot change it), and the digest schedule with
 * its time zone. Built once; `fill` writes a server
 * answer into it, so saving keeps focus where it was.
 */
import { defaultDigestSettings, kinds, type NotificationKind, type Preferences } from "@herald/domain"
import { h } from "../dom.ts"
import { checkboxField, type Control, type Field, field } from "../field.ts"
import type { FieldErrors, FieldName, FormValues } from "./patch.ts"

export interface PreferencesForm {
  readonly element: HTMLFormElement
  readonly fill: (preferences: Preferences) => void
  readonly values: () => FormValues
  readonly setErrors: (errors: FieldErrors) => void
  /** Focuses the first field with an error, so a keyboard user lands on it. */
  readonly focusFirstError: () => void
  readonly setStatus: (text: string) => void
  readonly setBusy: (busy: boolean) => void
}

const kindNames: Readonly<Record<NotificationKind, string>> = {
  mention: "Mentions",
  assignment: "Assignments",
  status_update: "Status updates"
}

// Short option texts: the email column has about 100 px on a phone.
const emailRoutes = [["off", "Off"], ["immediate", "At once"], ["digest", "Digest"]] as const
const schedules = [["hourly", "Every hour"], ["daily", "Every day"], ["weekly", "Every week"]] as const
const weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const

const options = (pairs: ReadonlyArray<readonly [string, string]>) => pairs.map(([value, label]) => h("option", { value }, [label]))

const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone

/** Every zone this browser knows, plus the given one if it is missing (an alias the server kept). */
const zoneOptions = (select: HTMLSelectElement, keep: string) => {
  const zones = new Set(Intl.supportedValuesOf("timeZone"))
  zones.add("UTC")
  zones.add(keep)
  select.replaceChildren(...[...zones].sort().map((zone) => h("option", { value: zone }, [zone.replaceAll("_", " ")])))
}

const isDefaultDigest = (preferences: Preferences) =>
  preferences.digest.timeZone === defaultDigestSettings.timeZone &&
  preferences.digest.schedule._tag === "daily" &&
  defaultDigestSettings.schedule._tag === "daily" &&
  preferences.digest.schedule.at === defaultDigestSettings.schedule.at &&
  preferences.digest.includeRead === defaultDigestSettings.includeRead

export const makePreferencesForm = (onSave: () => void): PreferencesForm => {
  const matrix = new Map<NotificationKind, { inApp: HTMLInputElement; push: HTMLInputElement; email: HTMLSelectElement }>()
  const rows = kinds.map((kind) => {
    const inApp = h("input", { type: "checkbox", id: `pref-${kind}-in-app` })
    const push = h("input", { type: "checkbox", id: `pref-${kind}-push` })
    const email = h("select", { id: `pref-${kind}-email` }, options(emailRoutes))
    matrix.set(kind, { inApp, push, email })
    const label = (control: HTMLElement, text: string) => h("label", { for: control.id, class: "visually-hidden" }, [text])
    return h("tr", {}, [
      h("th", { scope: "row" }, [kindNames[kind]]),
      h("td", {}, [inApp, label(inApp, `${kindNames[kind]} in the app`)]),
      h("td", {}, [push, label(push, `${kindNames[kind]} as push notifications`)]),
      h("td", {}, [label(email, `${kindNames[kind]} by email`), email])
    ])
  })
  const matrixError = h("p", { class: "field-error", id: "pref-kinds-error", hidden: true })
  const table = h("table", { class: "matrix" }, [
    h("caption", {}, ["How each kind of notification reaches you"]),
    h("thead", {}, [h("tr", {}, [
      h("th", { scope: "col" }, ["Kind"]),
      h("th", { scope: "col" }, ["In the app"]),
      h("th", { scope: "col" }, ["Push"]),
      h("th", { scope: "col" }, ["Email"])
    ])]),
    h("tbody", {}, rows)
  ])

  const emailTo = h("p", { id: "pref-email-address" })
  const schedule = field("Send the digest", h("select", { id: "pref-schedule" }, options(schedules)))
  const at = field("At", h("input", { type: "time", id: "pref-at", step: 60 }), "Local time in the zone below.")
  const weekday = field(
    "On",
    h("select", { id: "pref-weekday" }, weekdays.map((day) => h("option", { value: day }, [day.charAt(0).toUpperCase() + day.slice(1)])))
  )
  const zoneSelect = h("select", { id: "pref-zone" })
  const timeZone = field("Time zone", zoneSelect)
  const zoneNote = h("p", { class: "hint", id: "pref-zone-note", hidden: true })
  const includeRead = h("input", { type: "checkbox", id: "pref-include-read" })

  const showScheduleFields = () => {
    at.element.hidden = schedule.control.value === "hourly"
    weekday.element.hidden = schedule.control.value !== "weekly"
  }
  schedule.control.addEventListener("change", showScheduleFields)

  const status = h("p", { class: "save-status", role: "status", "aria-live": "polite" })
  const save = h("button", { type: "submit", class: "primary" }, ["Save"])
  const fields: ReadonlyArray<readonly [FieldName, Field<Control>]> = [
    ["schedule", schedule],
    ["at", at],
    ["weekday", weekday],
    ["timeZone", timeZone]
  ]

  const element = h("form", { class: "stack preferences-form", novalidate: true, "aria-labelledby": "preferences-title" }, [
    h("div", { class: "table-scroll" }, [table]),
    matrixError,
    h("fieldset", {}, [
      h("legend", {}, ["Email"]),
      emailTo,
      h("p", { class: "hint" }, ["Your app sets this address; ask it to change it."])
    ]),
    h("fieldset", {}, [
      h("legend", {}, ["Digest email"]),
      h("p", { class: "hint" }, ["Kinds whose email is set to “Digest” are collected and sent as one email."]),
      h("div", { class: "field-row" }, [schedule.element, at.element, weekday.element]),
      timeZone.element,
      zoneNote,
      checkboxField("Include notifications I have already read", includeRead)
    ]),
    h("div", { class: "actions" }, [save, status])
  ], {
    submit: (event) => {
      event.preventDefault()
      onSave()
    },
    // A change after "Saved" makes that confirmation stale.
    change: () => void (status.textContent = "")
  })

  return {
    element,
    fill: (preferences) => {
      for (const kind of kinds) {
        const controls = matrix.get(kind)
        const shown = preferences.kinds[kind]
        if (controls === undefined) continue
        controls.inApp.checked = shown.inApp
        controls.push.checked = shown.push
        controls.email.value = shown.email
      }
      emailTo.textContent = preferences.emailAddress === null
        ? "No email address is set, so no email is sent."
        : `Email goes to ${preferences.emailAddress}.`
      const digest = preferences.digest.schedule
      schedule.control.value = digest._tag
      at.control.value = digest._tag === "hourly" ? "09:00" : digest.at
      weekday.control.value = digest._tag === "weekly" ? digest.weekday : "monday"
      // A user who never chose a zone is on UTC; offering the browser's zone is what they most likely mean.
      const suggest = isDefaultDigest(preferences) && browserZone() !== preferences.digest.timeZone
      const zone = suggest ? browserZone() : preferences.digest.timeZone
      zoneOptions(zoneSelect, zone)
      zoneSelect.value = zone
      zoneNote.hidden = !suggest
      zoneNote.textContent = suggest ? `Your browser's time zone. Herald uses ${preferences.digest.timeZone} until you save.` : ""
      includeRead.checked = preferences.digest.includeRead
      showScheduleFields()
    },
    values: () => ({
      kinds: {
        mention: kindValues(matrix, "mention"),
        assignment: kindValues(matrix, "assignment"),
        status_update: kindValues(matrix, "status_update")
      },
      schedule: schedule.control.value,
      at: at.control.value,
      weekday: weekday.control.value,
      timeZone: zoneSelect.value,
      includeRead: includeRead.checked
    }),
    setErrors: (errors) => {
      for (const [name, entry] of fields) entry.setError(errors[name])
      matrixError.textContent = errors.kinds ?? ""
      matrixError.hidden = errors.kinds === undefined
    },
    focusFirstError: () => {
      const invalid = element.querySelector("[aria-invalid=true]")
      if (invalid instanceof HTMLElement) invalid.focus()
    },
    setStatus: (text) => void (status.textContent = text),
    setBusy: (busy) => {
      save.disabled = busy
      save.textContent = busy ? "Saving…" : "Save"
    }
  }
}

const kindValues = (
  matrix: ReadonlyMap<NotificationKind, { inApp: HTMLInputElement; push: HTMLInputElement; email: HTMLSelectElement }>,
  kind: NotificationKind
) => {
  const controls = matrix.get(kind)
  return { inApp: controls?.inApp.checked ?? false, push: controls?.push.checked ?? false, email: controls?.email.value ?? "" }
}
