/**
 * `/preferences`: the signed-in user's preferences and devices. Save sends
 * only what changed (`updatePreferences`), then shows the server's answer,
 * not what was typed, so what the page says is what Herald stored.
 */
import { HeraldUserClient } from "@herald/client"
import type { Device, Preferences } from "@herald/domain"
import { Effect, Option } from "effect"
import { showError } from "../alerts.ts"
import { h, replace } from "../dom.ts"
import { startUserPage, type UserApp } from "../userApp.ts"
import { makeDevicesView } from "./devices.ts"
import { makePreferencesForm } from "./form.ts"
import { fieldOfPath, toPatch } from "./patch.ts"

type SaveOutcome =
  | { readonly _tag: "saved"; readonly preferences: Preferences }
  | { readonly _tag: "invalid"; readonly path: string; readonly message: string }

const render = (app: UserApp, main: HTMLElement) => {
  let current: Preferences | undefined

  const form = makePreferencesForm(() => {
    if (current === undefined) return
    const result = toPatch(form.values(), current)
    if (result._tag === "invalid") {
      form.setErrors(result.errors)
      form.setStatus("Not saved: check the fields marked below.")
      form.focusFirstError()
      return
    }
    form.setErrors({})
    if (result.empty) return form.setStatus("No changes to save.")
    form.setBusy(true)
    form.setStatus("")
    void app.run(HeraldUserClient.use((me) =>
      me.updatePreferences(result.patch).pipe(
        Effect.map((preferences): SaveOutcome => ({ _tag: "saved", preferences })),
        // A field the server refused is shown next to that field, not only in the alert region.
        Effect.catchTag("InvalidRequest", (error) => Effect.succeed<SaveOutcome>({ _tag: "invalid", path: error.path, message: error.message }))
      )
    )).then((outcome) => {
      form.setBusy(false)
      if (Option.isNone(outcome)) return form.setStatus("Not saved.")
      const value = outcome.value
      if (value._tag === "invalid") {
        const name = fieldOfPath(value.path)
        if (name === undefined) showError(`Not saved: ${value.message}`)
        else form.setErrors({ [name]: value.message })
        form.setStatus("Not saved.")
        form.focusFirstError()
        return
      }
      current = value.preferences
      form.fill(value.preferences)
      form.setStatus("Saved")
    })
  })

  const devices = makeDevicesView((device: Device, button) => {
    button.disabled = true
    void app.run(HeraldUserClient.use((me) =>
      Effect.gen(function*() {
        const removed = yield* me.unregisterDevice(device.token)
        return { removed, devices: yield* me.listDevices() }
      })
    )).then((outcome) => {
      button.disabled = false
      if (Option.isNone(outcome)) return
      devices.show(outcome.value.devices)
      devices.setStatus(outcome.value.removed ? "Device removed." : "That device was already gone.")
      document.getElementById("devices-title")?.focus()
    })
  })

  replace(main, [
    h("h1", { id: "preferences-title" }, ["Notification preferences"]),
    h("section", { class: "card", "aria-label": "Channels and digest" }, [h("p", { class: "muted" }, ["Loading your preferences…"])]),
    devices.element
  ])

  void app.run(HeraldUserClient.use((me) =>
    Effect.all({ preferences: me.getPreferences(), devices: me.listDevices() }, { concurrency: 2 })
  )).then((loaded) => {
    if (Option.isNone(loaded)) return
    current = loaded.value.preferences
    form.fill(loaded.value.preferences)
    const section = main.querySelector("section")
    if (section !== null) replace(section, [form.element])
    devices.show(loaded.value.devices)
  })
}

startUserPage(render)
