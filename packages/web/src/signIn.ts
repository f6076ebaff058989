/**
 * The sign-in view of the notification center and preferences pages. On a
 * server with the development login on, a user id field; elsewhere, how an
 * app hands its user a client token (`#token=…` in the URL). The user id is
 * decoded with the domain's `UserId` before anything is sent.
 */
import { UserId } from "@herald/domain"
import { Effect, Exit, Option, Schema } from "effect"
import { showError } from "./alerts.ts"
import { h, replace } from "./dom.ts"
import { describeCause } from "./errors.ts"
import { decodeField, field } from "./field.ts"
import { devSession, type Session } from "./session.ts"
import { devLogin, webConfig } from "./webApi.ts"

const decodeUserId = Schema.decodeUnknownExit(UserId)

const fragmentHelp = () => [
  h("p", {}, [
    "This page shows one user's Herald notifications. An app opens it for its signed-in user with a client token in the address, after ",
    h("code", {}, ["#token="]),
    ":"
  ]),
  h("pre", { class: "example" }, [h("code", {}, [`${location.origin}${location.pathname}#token=CLIENT_TOKEN`])]),
  h("p", {}, [
    "The app's backend gets the token from the ",
    h("code", {}, ["IssueClientToken"]),
    " RPC (to try it: ",
    h("code", {}, ["./herald token --user alice"]),
    "). The page keeps it for this tab only and removes it from the address."
  ])
]

const devLoginForm = (onSession: (session: Session) => void) => {
  const userId = field(
    "User id",
    h("input", { name: "userId", autocomplete: "username", required: true, spellcheck: "false", autocapitalize: "none" }),
    "Development login: any user id, no password."
  )
  const button = h("button", { type: "submit", class: "primary" }, ["Sign in"])
  const submit = (event: SubmitEvent) => {
    event.preventDefault()
    const id = decodeField(userId, decodeUserId, "A user id is 1 to 128 letters, digits or _ - . @ : | (no spaces).")
    if (id === undefined) return
    button.disabled = true
    void Effect.runPromiseExit(devLogin(id)).then((exit) => {
      button.disabled = false
      if (Exit.isFailure(exit)) return showError(describeCause(exit.cause))
      const session = devSession(exit.value)
      if (Option.isNone(session)) return showError("Signing in: the server answered with a token this page cannot read.")
      onSession(session.value)
    })
  }
  return h("form", { class: "stack", novalidate: true, "aria-label": "Development sign-in" }, [
    userId.element,
    h("div", { class: "actions" }, [button])
  ], { submit })
}

/**
 * Renders the sign-in into `main`; `onSession` is called once the user has a session.
 * `notice` says why the page is asking (a refused or expired token).
 */
export const showSignIn = (main: HTMLElement, notice: string | undefined, onSession: (session: Session) => void): void => {
  const body = h("div", { class: "stack" }, [h("p", { class: "muted" }, ["Checking how this server signs you in…"])])
  replace(main, [
    h("section", { class: "card sign-in", "aria-labelledby": "sign-in-title" }, [
      h("h1", { id: "sign-in-title" }, ["Sign in"]),
      notice === undefined ? null : h("p", { class: "notice" }, [notice]),
      body
    ])
  ])
  const load = () =>
    void Effect.runPromiseExit(webConfig).then((exit) => {
      if (Exit.isFailure(exit)) {
        showError(describeCause(exit.cause))
        replace(body, [h("button", { type: "button" }, ["Try again"], { click: load })])
        return
      }
      replace(body, exit.value.devLogin ? [devLoginForm(onSession)] : fragmentHelp())
      body.querySelector("input")?.focus()
    })
  load()
}
