/**
 * The admin key gate of `/admin`: a password field, the key kept in
 * sessionStorage for this tab, and "Forget key" to drop it. A key the
 * server refuses (401) is forgotten and the form comes back saying so.
 */
import { Option, Schema } from "effect"
import { h, replace } from "../dom.ts"
import { decodeField, field } from "../field.ts"
import { storedValue } from "../storage.ts"

/** As the server takes a bearer key: a non-empty line without spaces. */
const AdminKey = Schema.String.pipe(
  Schema.check(Schema.isMinLength(1), Schema.isMaxLength(4096), Schema.isPattern(/^\S+$/, { description: "a key without spaces" }))
)
const decodeKey = Schema.decodeUnknownExit(AdminKey)

const stored = storedValue("herald.adminKey", AdminKey)

export const storedAdminKey = (): Option.Option<string> => stored.get()
export const forgetAdminKey = (): void => stored.remove()

export const showKeyForm = (main: HTMLElement, notice: string | undefined, onKey: (key: string) => void): void => {
  const key = field(
    "Admin key",
    h("input", { type: "password", name: "adminKey", autocomplete: "current-password", required: true, spellcheck: "false" }),
    "HERALD_ADMIN_KEY, or adminKey in the server's .data/secrets.json. Kept for this tab only."
  )
  const submit = (event: SubmitEvent) => {
    event.preventDefault()
    const value = decodeField(key, decodeKey, "Paste the admin key: one word, no spaces.")
    if (value === undefined) return
    stored.set(value)
    onKey(value)
  }
  replace(main, [
    h("section", { class: "card sign-in", "aria-labelledby": "key-title" }, [
      h("h1", { id: "key-title" }, ["Rollout admin"]),
      notice === undefined ? null : h("p", { class: "notice" }, [notice]),
      h("form", { class: "stack", novalidate: true }, [
        key.element,
        h("div", { class: "actions" }, [h("button", { type: "submit", class: "primary" }, ["Open admin"])])
      ], { submit })
    ])
  ])
  key.control.focus()
}
