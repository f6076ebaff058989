/**
 * The frame of the two user pages (`/` and `/preferences`): find or ask for
 * a session, build the user's `HeraldUserClient`, render the page, and go
 * back to the sign-in when the user signs out, the token expires, or the
 * server refuses it. Every effect a page runs goes through `run` or `fork`,
 * so no failure is silently dropped.
 */
import { HeraldUserClient } from "@herald/client"
import { Option } from "effect"
import { clearErrors } from "./alerts.ts"
import { byId, h, replace } from "./dom.ts"
import { makePageRuntime, type PageRuntime } from "./pageRuntime.ts"
import { currentSession, forgetSession, saveSession, type Session, takeFragmentToken } from "./session.ts"
import { showSignIn } from "./signIn.ts"

export interface UserApp extends Omit<PageRuntime<HeraldUserClient>, "dispose"> {
  readonly session: Session
  /** Registers cleanup for sign-out (timers, observers). */
  readonly onEnd: (cleanup: () => void) => void
  readonly signOut: (notice?: string) => void
}

const refused = "Herald refused your sign-in (it expired or was revoked). Sign in again."
// setTimeout takes at most 2^31-1 ms; a token that lives longer is checked again on reload.
const maxTimer = 2 ** 31 - 1

const sessionBar = (session: Session | undefined, signOut: () => void) => {
  const slot = byId("session", HTMLElement)
  if (slot === undefined) return
  replace(slot, session === undefined ? [] : [
    h("span", { class: "who" }, ["Signed in as ", h("strong", {}, [session.userId])]),
    h("button", { type: "button", class: "link-button" }, ["Sign out"], { click: signOut })
  ])
}

/** Starts a user page: `render` fills `main` once a session exists, and again after every new sign-in. */
export const startUserPage = (render: (app: UserApp, main: HTMLElement) => void): void => {
  const main = byId("main", HTMLElement) ?? document.body
  const fromFragment = takeFragmentToken()

  const begin = (notice: string | undefined) => {
    const session = currentSession()
    if (Option.isSome(session)) return open(session.value)
    sessionBar(undefined, () => undefined)
    showSignIn(main, notice, (fresh) => {
      saveSession(fresh)
      clearErrors()
      open(fresh)
    })
  }

  const open = (session: Session) => {
    const cleanups: Array<() => void> = []
    let ended = false
    const signOut = (notice?: string) => {
      if (ended) return
      ended = true
      for (const cleanup of cleanups) cleanup()
      forgetSession()
      runtime.dispose()
      begin(notice)
    }
    const runtime = makePageRuntime(HeraldUserClient.layer({ url: location.origin, token: session.token }), () => signOut(refused))
    const expiry = setTimeout(() => signOut("Your sign-in expired. Sign in again."), Math.min(maxTimer, session.expiresAt - Date.now()))
    cleanups.push(() => clearTimeout(expiry))
    sessionBar(session, () => signOut("You signed out."))
    render({
      session,
      run: runtime.run,
      fork: runtime.fork,
      onEnd: (cleanup) => void cleanups.push(cleanup),
      signOut
    }, main)
  }

  begin(fromFragment._tag === "refused" ? "The token in the address is not a Herald client token; ask the app for a new link." : undefined)
}
