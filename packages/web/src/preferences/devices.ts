/**
 * The user's push devices, with a Remove button each. Apps register devices
 * (with the app key, from the device's FCM token); a user can only forget
 * them here, for a phone they no longer have.
 */
import type { Device } from "@herald/domain"
import { h, replace } from "../dom.ts"
import { dateTime, isoTime, shortToken } from "../format.ts"

export interface DevicesView {
  readonly element: HTMLElement
  readonly show: (devices: ReadonlyArray<Device>) => void
  readonly setStatus: (text: string) => void
}

const platformNames: Readonly<Record<Device["platform"], string>> = { web: "Web browser", ios: "iOS", android: "Android" }

export const makeDevicesView = (onRemove: (device: Device, button: HTMLButtonElement) => void): DevicesView => {
  const body = h("div")
  const status = h("p", { class: "save-status", role: "status", "aria-live": "polite" })
  const element = h("section", { class: "card", "aria-labelledby": "devices-title" }, [
    h("h2", { id: "devices-title", tabindex: "-1" }, ["Devices"]),
    h("p", { class: "hint" }, ["Phones and browsers that receive your push notifications."]),
    body,
    status
  ])
  const show = (devices: ReadonlyArray<Device>) => {
    if (devices.length === 0) {
      replace(body, [h("p", { class: "muted" }, ["No devices are registered for push."])])
      return
    }
    replace(body, [h("ul", { class: "devices" }, devices.map((device) => {
      const name = `${platformNames[device.platform]} ${shortToken(device.token)}`
      const button = h("button", { type: "button", class: "small", "aria-label": `Remove ${name}` }, ["Remove"])
      button.addEventListener("click", () => onRemove(device, button))
      return h("li", { class: "device" }, [
        h("div", {}, [
          h("strong", {}, [platformNames[device.platform]]),
          " ",
          h("code", { title: device.token }, [shortToken(device.token)]),
          h("p", { class: "muted" }, ["Registered ", h("time", { datetime: isoTime(device.createdAt) }, [dateTime(device.createdAt)])])
        ]),
        button
      ])
    }))])
  }
  return { element, show, setStatus: (text) => void (status.textContent = text) }
}
