/**
 * The rollout's audit history, newest first: when, who, what changed
 * (`from → to`) and why. The guard's own kills appear here with the
 * trigger and values that tripped it.
 */
import type { RolloutChange } from "@herald/domain"
import { h, replace } from "../dom.ts"
import { dateTime, isoTime, percentageText } from "../format.ts"

export interface HistoryView {
  readonly element: HTMLElement
  readonly show: (changes: ReadonlyArray<RolloutChange>) => void
}

const whatChanged = (change: RolloutChange): string => {
  switch (change.action) {
    case "set":
      return `${percentageText(change.from.percentage)} → ${percentageText(change.to.percentage)}`
    case "kill":
      return "kill switch off → on"
    case "resume":
      return "kill switch on → off"
    case "allow":
      return `allowed ${change.userId ?? "?"}`
    case "unallow":
      return `removed ${change.userId ?? "?"} from the allow list`
    case "deny":
      return `denied ${change.userId ?? "?"}`
    case "undeny":
      return `removed ${change.userId ?? "?"} from the deny list`
  }
}

export const makeHistoryView = (): HistoryView => {
  const body = h("tbody")
  let shown = ""
  return {
    element: h("section", { class: "card", "aria-labelledby": "history-title" }, [
      h("h2", { id: "history-title" }, ["Audit history"]),
      h("div", { class: "table-scroll" }, [
        h("table", { class: "history stacked" }, [
          h("caption", { class: "visually-hidden" }, ["Changes of the rollout flag, newest first"]),
          h("thead", {}, [h("tr", {}, [
            h("th", { scope: "col" }, ["When"]),
            h("th", { scope: "col" }, ["Actor"]),
            h("th", { scope: "col" }, ["Action"]),
            h("th", { scope: "col" }, ["Change"]),
            h("th", { scope: "col" }, ["Reason"])
          ])]),
          body
        ])
      ])
    ]),
    show: (changes) => {
      const key = changes.map((change) => change.id).join(",")
      if (key === shown) return
      shown = key
      replace(body, changes.length === 0 ? [h("tr", {}, [h("td", { colspan: 5, class: "muted" }, ["No changes yet."])])] : changes.map((change) =>
        h("tr", {}, [
          h("td", { "data-label": "When" }, [h("time", { datetime: isoTime(change.at) }, [dateTime(change.at)])]),
          h("td", { "data-label": "Actor" }, [change.actor]),
          h("td", { "data-label": "Action" }, [change.action]),
          h("td", { "data-label": "Change" }, [whatChanged(change)]),
          h("td", { "data-label": "Reason" }, [change.reason ?? "–"])
        ])
      ))
    }
  }
}
