/**
 * The allow and deny lists: users who are always in (unless denied or the
 * kill switch is on) and users who are always out, with add and remove.
 * A user id is decoded with the domain's `UserId` before it is sent.
 */
import type { RolloutCommandInput } from "@herald/client"
import { type RolloutState, UserId } from "@herald/domain"
import { Schema } from "effect"
import { h, replace } from "../dom.ts"
import { decodeField, field } from "../field.ts"
import type { ChangeRollout } from "./flagPanel.ts"

export interface UserLists {
  readonly element: HTMLElement
  readonly show: (state: RolloutState) => void
}

const decodeUserId = Schema.decodeUnknownExit(UserId)

interface ListSpec {
  readonly id: "allow" | "deny"
  readonly title: string
  readonly hint: string
  readonly add: "allow" | "deny"
  readonly remove: "unallow" | "undeny"
}

const allowSpec: ListSpec = { id: "allow", title: "Allow list", hint: "Always in, whatever the percentage.", add: "allow", remove: "unallow" }
const denySpec: ListSpec = { id: "deny", title: "Deny list", hint: "Always out, even when allowed.", add: "deny", remove: "undeny" }

const makeList = (spec: ListSpec, change: ChangeRollout, reason: () => string) => {
  const items = h("ul", { class: "user-list", "aria-labelledby": `${spec.id}-title` })
  const userId = field(`User id to add to the ${spec.title.toLowerCase()}`, h("input", { id: `${spec.id}-user`, spellcheck: "false", autocapitalize: "none" }))
  const send = (command: RolloutCommandInput) => change(command, reason())
  const form = h("form", { class: "inline-form", novalidate: true }, [
    userId.element,
    h("button", { type: "submit" }, ["Add"])
  ], {
    submit: (event) => {
      event.preventDefault()
      const id = decodeField(userId, decodeUserId, "A user id is 1 to 128 letters, digits or _ - . @ : |.")
      if (id === undefined) return
      void send({ action: spec.add, userId: id }).then((applied) => {
        if (applied) userId.control.value = ""
      })
    }
  })
  let shown = ""
  const show = (users: ReadonlyArray<UserId>) => {
    // Re-rendering an unchanged list every refresh would throw away the focus of a keyboard user on it.
    const key = users.join("\n")
    if (key === shown) return
    shown = key
    replace(items, users.length === 0 ? [h("li", { class: "muted" }, ["Nobody."])] : users.map((user) =>
      h("li", {}, [
        h("span", { class: "user" }, [user]),
        h("button", { type: "button", class: "small", "aria-label": `Remove ${user} from the ${spec.title.toLowerCase()}` }, ["Remove"], {
          click: () => void send({ action: spec.remove, userId: user })
        })
      ])
    ))
  }
  const element = h("div", { class: "list-block" }, [
    h("h3", { id: `${spec.id}-title` }, [spec.title]),
    h("p", { class: "hint" }, [spec.hint]),
    items,
    form
  ])
  return { element, show }
}

export const makeUserLists = (change: ChangeRollout, reason: () => string): UserLists => {
  const allow = makeList(allowSpec, change, reason)
  const deny = makeList(denySpec, change, reason)
  return {
    element: h("section", { class: "card", "aria-labelledby": "lists-title" }, [
      h("h2", { id: "lists-title" }, ["Allow and deny lists"]),
      h("div", { class: "lists" }, [allow.element, deny.element])
    ]),
    show: (state) => {
      allow.show(state.allow)
      deny.show(state.deny)
    }
  }
}
