/**
 * The bell button: the unread count as a badge, and as the accessible name
 * ("Notifications, 3 unread"), since the badge alone is only a picture of a
 * number. It shows and hides the panel it controls, as an app's header bell
 * would.
 */
import { h, s } from "../dom.ts"

export interface Bell {
  readonly element: HTMLButtonElement
  readonly setCount: (count: number) => void
}

const icon = () =>
  s("svg", { class: "bell-icon", viewBox: "0 0 24 24", width: 22, height: 22, "aria-hidden": "true", focusable: "false" }, [
    s("path", { d: "M12 3a6 6 0 0 0-6 6v3.6L4.3 15.4A1 1 0 0 0 5.2 17h13.6a1 1 0 0 0 .9-1.6L18 12.6V9a6 6 0 0 0-6-6Z" }),
    s("path", { d: "M9.5 19a2.5 2.5 0 0 0 5 0" })
  ])

export const makeBell = (panel: HTMLElement): Bell => {
  const badge = h("span", { class: "badge", "aria-hidden": "true" })
  const element = h("button", { type: "button", class: "bell", "aria-controls": panel.id, "aria-expanded": "true" }, [icon(), badge], {
    click: () => {
      panel.hidden = !panel.hidden
      element.setAttribute("aria-expanded", String(!panel.hidden))
    }
  })
  const setCount = (count: number) => {
    element.setAttribute("aria-label", count === 0 ? "Notifications, none unread" : `Notifications, ${count} unread`)
    element.dataset["count"] = String(count)
    badge.textContent = count > 99 ? "99+" : String(count)
    badge.hidden = count === 0
  }
  setCount(0)
  return { element, setCount }
}
