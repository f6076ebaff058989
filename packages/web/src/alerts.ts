/**
 * The page's alert region (`#alerts` in every page's HTML, `role="alert"`):
 * errors a person must see. It exists in the HTML from the start because
 * screen readers only announce changes to live regions they already know.
 */
import { h } from "./dom.ts"

// The last few are enough: a burst of the same failure (every 5 s refresh, say) must not bury the page.
const keep = 3

const region = (): HTMLElement => {
  const existing = document.getElementById("alerts")
  if (existing !== null) return existing
  const created = h("div", { id: "alerts", class: "alerts", role: "alert" })
  document.body.prepend(created)
  return created
}

/** Shows `message` (once: the same text already shown is not repeated) with a Dismiss button. */
export const showError = (message: string): void => {
  const alerts = region()
  for (const shown of alerts.querySelectorAll(".alert-text")) {
    if (shown.textContent === message) return
  }
  const item = h("div", { class: "alert" }, [
    h("p", { class: "alert-text" }, [message]),
    h("button", { type: "button", class: "link-button" }, ["Dismiss"], { click: () => item.remove() })
  ])
  alerts.append(item)
  while (alerts.children.length > keep) alerts.firstElementChild?.remove()
}

/** Removes every shown error (after the user signs in again, say). */
export const clearErrors = (): void => region().replaceChildren()
