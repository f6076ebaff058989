/**
 * The small element builder the pages are written with, instead of a UI
 * framework: `h("button", { type: "button", class: "primary" }, ["Save"], { click })`.
 *
 * Everything goes through `createElement`, `setAttribute` and text nodes, never
 * through HTML strings, so a notification's title can never become markup and
 * nothing trips the server's CSP (no inline styles or scripts).
 */

/** An attribute value: `true` sets a boolean attribute, `false`, `null` and `undefined` leave it out. */
export type AttributeValue = string | number | boolean | null | undefined
export type Attributes = Readonly<Record<string, AttributeValue>>
/** A child: elements and text; `null`, `undefined` and `false` are skipped, so conditions read inline. */
export type Child = Node | string | number | null | undefined | false
export type Children = ReadonlyArray<Child>

/** The events the pages listen to, typed. */
export interface Listeners {
  readonly click?: (event: MouseEvent) => void
  readonly submit?: (event: SubmitEvent) => void
  readonly change?: (event: Event) => void
  readonly input?: (event: Event) => void
  readonly keydown?: (event: KeyboardEvent) => void
}

const setAttributes = (element: Element, attributes: Attributes) => {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue
    element.setAttribute(name, value === true ? "" : String(value))
  }
}

const append = (parent: Node, children: Children) => {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child)
  }
}

const listen = (element: HTMLElement, on: Listeners) => {
  if (on.click) element.addEventListener("click", on.click)
  if (on.submit) element.addEventListener("submit", on.submit)
  if (on.change) element.addEventListener("change", on.change)
  if (on.input) element.addEventListener("input", on.input)
  if (on.keydown) element.addEventListener("keydown", on.keydown)
}

/** An HTML element with attributes, children and listeners. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  children: Children = [],
  on: Listeners = {}
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag)
  setAttributes(element, attributes)
  append(element, children)
  listen(element, on)
  return element
}

const svgNamespace = "http://www.w3.org/2000/svg"

/** An SVG element (for the latency chart); presentation attributes only, styling comes from classes. */
export const s = <K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  children: Children = []
): SVGElementTagNameMap[K] => {
  const element = document.createElementNS(svgNamespace, tag)
  setAttributes(element, attributes)
  append(element, children)
  return element
}

/** Replaces everything inside `parent` with `children`. */
export const replace = (parent: Element, children: Children): void => {
  parent.replaceChildren()
  append(parent, children)
}

/** The element with `id` when it is an instance of `type`; pages look up the static shell of their HTML file with it. */
export const byId = <T extends HTMLElement>(id: string, type: { new(): T; prototype: T }): T | undefined => {
  const element = document.getElementById(id)
  return element instanceof type ? element : undefined
}

let ids = 0
/** A document-unique id, to tie a `<label for>` or `aria-describedby` to a generated control. */
export const uniqueId = (prefix: string): string => `${prefix}-${++ids}`
