/**
 * A labelled form control with an optional hint and a place for its
 * validation error, tied together with `for`, `aria-describedby` and
 * `aria-invalid` so a screen reader reads the error with the field.
 */
import { Exit } from "effect"
import { h, uniqueId } from "./dom.ts"

export type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement

export interface Field<C extends Control> {
  readonly element: HTMLDivElement
  readonly control: C
  /** Shows `message` under the field (and marks it invalid), or clears it with `undefined`. */
  readonly setError: (message: string | undefined) => void
}

export const field = <C extends Control>(label: string, control: C, hint?: string): Field<C> => {
  if (control.id === "") control.id = uniqueId("field")
  const hintId = `${control.id}-hint`
  const errorId = `${control.id}-error`
  const error = h("p", { id: errorId, class: "field-error", hidden: true })
  const describedBy = (invalid: boolean) => [hint === undefined ? undefined : hintId, invalid ? errorId : undefined].filter((id) => id !== undefined).join(" ")
  const describe = (invalid: boolean) => {
    const ids = describedBy(invalid)
    if (ids === "") control.removeAttribute("aria-describedby")
    else control.setAttribute("aria-describedby", ids)
  }
  describe(false)
  const element = h("div", { class: "field" }, [
    h("label", { for: control.id }, [label]),
    control,
    hint === undefined ? null : h("p", { id: hintId, class: "hint" }, [hint]),
    error
  ])
  return {
    element,
    control,
    setError: (message) => {
      error.textContent = message ?? ""
      error.hidden = message === undefined
      if (message === undefined) control.removeAttribute("aria-invalid")
      else control.setAttribute("aria-invalid", "true")
      describe(message !== undefined)
    }
  }
}

/**
 * The field's value, trimmed and decoded with `decode`. When it does not
 * decode, the field shows `message` and takes the focus (so a keyboard user
 * lands on it) and the answer is undefined; otherwise its error is cleared.
 */
export const decodeField = <A>(
  entry: Field<Control>,
  decode: (text: string) => Exit.Exit<A, unknown>,
  message: string
): A | undefined => {
  const decoded = decode(entry.control.value.trim())
  if (Exit.isFailure(decoded)) {
    entry.setError(message)
    entry.control.focus()
    return undefined
  }
  entry.setError(undefined)
  return decoded.value
}

/** A checkbox with its label after it, the way people expect to read one. */
export const checkboxField = (label: string, input: HTMLInputElement, hint?: string): HTMLDivElement => {
  if (input.id === "") input.id = uniqueId("check")
  input.type = "checkbox"
  const hintId = `${input.id}-hint`
  if (hint !== undefined) input.setAttribute("aria-describedby", hintId)
  return h("div", { class: "field checkbox" }, [
    input,
    h("label", { for: input.id }, [label]),
    hint === undefined ? null : h("p", { id: hintId, class: "hint" }, [hint])
  ])
}
