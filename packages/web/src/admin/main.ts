/**
 * `/admin`: the real-time rollout behind the admin key. The flag with its
 * phase steps, kill switch and resume; the allow and deny lists; the guard's
 * triggers and exit criteria with live values; the latency chart of the
 * last hour; the audit history. Everything is read again every 5 s and
 * after every change. Changes are audited with the actor "web-admin".
 */
import { HeraldAdminClient, type RolloutCommandInput } from "@herald/client"
import { Effect, Option } from "effect"
import { clearErrors } from "../alerts.ts"
import { byId, h, replace } from "../dom.ts"
import { makePageRuntime } from "../pageRuntime.ts"
import { makeCriteriaView } from "./criteria.ts"
import { makeFlagPanel } from "./flagPanel.ts"
import { makeHistoryView } from "./history.ts"
import { forgetAdminKey, showKeyForm, storedAdminKey } from "./keyForm.ts"
import { makeKillDialog } from "./killDialog.ts"
import { makeLatencyView } from "./latencyChart.ts"
import { makeUserLists } from "./userLists.ts"

const refreshMs = 5_000
const historyLimit = 20
const actor = "web-admin"

const main = byId("main", HTMLElement) ?? document.body
const updatedClock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })

const keyBar = (forget: (() => void) | undefined) => {
  const slot = byId("session", HTMLElement)
  if (slot === undefined) return
  replace(slot, forget === undefined ? [] : [
    h("span", { class: "who" }, ["Admin key set"]),
    h("button", { type: "button", class: "link-button" }, ["Forget key"], { click: forget })
  ])
}

const start = (notice: string | undefined) => {
  const key = storedAdminKey()
  if (Option.isSome(key)) return open(key.value)
  keyBar(undefined)
  showKeyForm(main, notice, (fresh) => {
    clearErrors()
    open(fresh)
  })
}

const open = (adminKey: string) => {
  let ended = false
  const end = (notice: string) => {
    if (ended) return
    ended = true
    clearInterval(timer)
    dialog.element.close()
    runtime.dispose()
    forgetAdminKey()
    start(notice)
  }
  const runtime = makePageRuntime(
    HeraldAdminClient.layer({ url: location.origin, adminKey }),
    () => end("The server refused this admin key (401). Enter the admin key again.")
  )

  const dialog = makeKillDialog()
  const change = (command: RolloutCommandInput, reason: string) =>
    runtime.run(HeraldAdminClient.use((admin) => admin.changeRollout({ ...command, actor, ...(reason === "" ? {} : { reason }) })))
      .then((state) => {
        refresh()
        return Option.isSome(state)
      })
  const flag = makeFlagPanel(change, dialog)
  const lists = makeUserLists(change, flag.reason)
  const criteria = makeCriteriaView()
  const latency = makeLatencyView()
  const history = makeHistoryView()
  const updated = h("p", { class: "muted updated" }, ["Loading…"])

  // One refresh at a time; a change during one asks for another right after, so it is never missed.
  let refreshing = false
  let again = false
  const refresh = () => {
    if (refreshing) {
      again = true
      return
    }
    refreshing = true
    void runtime.run(HeraldAdminClient.use((admin) =>
      Effect.all({
        status: admin.getRollout(),
        changes: admin.rolloutHistory(historyLimit),
        points: admin.latencySeries(60)
      }, { concurrency: 3 })
    )).then((loaded) => {
      refreshing = false
      if (ended) return
      if (Option.isSome(loaded)) {
        flag.show(loaded.value.status)
        lists.show(loaded.value.status.state)
        criteria.show(loaded.value.status)
        latency.show(loaded.value.points)
        history.show(loaded.value.changes)
        updated.textContent = `Updated at ${updatedClock.format(Date.now())}; refreshed every ${refreshMs / 1000} s.`
      }
      if (again) {
        again = false
        refresh()
      }
    })
  }
  // A hidden tab has nobody to show numbers to; it catches up on the next tick after it is shown.
  const timer = setInterval(() => document.hidden || refresh(), refreshMs)

  keyBar(() => end("You forgot the admin key."))
  replace(main, [
    h("div", { class: "page-title" }, [h("h1", {}, ["Rollout admin"]), updated]),
    h("div", { class: "admin-grid" }, [flag.element, lists.element, criteria.element, latency.element, history.element]),
    dialog.element
  ])
  refresh()
}

start(undefined)
