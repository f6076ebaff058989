/**
 * The confirmation before the kill switch: a modal `<dialog>` (focus stays
 * inside, Escape cancels) that says what will happen and asks for the
 * reason that goes into the audit history.
 */
import { h } from "../dom.ts"
import { field } from "../field.ts"

export interface KillDialog {
  readonly element: HTMLDialogElement
  /** Opens the dialog; `onConfirm` gets the reason typed (possibly empty). */
  readonly open: (onConfirm: (reason: string) => void) => void
  readonly close: () => void
  readonly setBusy: (busy: boolean) => void
}

export const makeKillDialog = (): KillDialog => {
  let confirm: ((reason: string) => void) | undefined
  const reason = field(
    "Reason",
    h("textarea", { id: "kill-reason", rows: 3, maxlength: 500 }),
    "Saved in the audit history with the actor web-admin."
  )
  const confirmButton = h("button", { type: "submit", class: "danger" }, ["Turn the kill switch on"])
  const cancel = h("button", { type: "button" }, ["Cancel"])
  const element = h("dialog", { class: "dialog", "aria-labelledby": "kill-title", "aria-describedby": "kill-what" }, [
    h("form", { class: "stack", method: "dialog" }, [
      h("h2", { id: "kill-title" }, ["Turn the kill switch on?"]),
      h("p", { id: "kill-what" }, [
        "Sockets and push stop for every user at once, whatever the percentage and the lists say; ",
        "each notification goes out as an immediate email instead (to users with an address). ",
        "The inbox keeps everything. Resume turns real-time back on."
      ]),
      reason.element,
      h("div", { class: "actions" }, [cancel, confirmButton])
    ], {
      submit: (event) => {
        event.preventDefault()
        confirm?.(reason.control.value.trim())
      }
    })
  ])
  cancel.addEventListener("click", () => element.close())
  return {
    element,
    open: (onConfirm) => {
      confirm = onConfirm
      reason.control.value = ""
      element.showModal()
      reason.control.focus()
    },
    close: () => element.close(),
    setBusy: (busy) => {
      confirmButton.disabled = busy
      cancel.disabled = busy
    }
  }
}
