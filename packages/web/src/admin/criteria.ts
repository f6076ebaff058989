/**
 * The rollout guard's rollback triggers and the phase's exit criteria, each
 * with its live value over the guard's window, its threshold and the
 * verdict. The verdict is a word and a symbol, not only a colour.
 */
import type { Criterion, RolloutStatus } from "@herald/domain"
import { h, replace } from "../dom.ts"
import { measureText, windowText } from "../format.ts"

export interface CriteriaView {
  readonly element: HTMLElement
  readonly show: (status: RolloutStatus) => void
}

const verdicts: Readonly<Record<Criterion["status"], { readonly symbol: string; readonly text: string }>> = {
  pass: { symbol: "✓", text: "Pass" },
  fail: { symbol: "✗", text: "Fail" },
  "no-data": { symbol: "–", text: "No data" }
}

const table = (caption: string, criteria: ReadonlyArray<Criterion>) =>
  h("div", { class: "table-scroll" }, [
    h("table", { class: "criteria stacked" }, [
      h("caption", {}, [caption]),
      h("thead", {}, [h("tr", {}, [
        h("th", { scope: "col" }, ["Criterion"]),
        h("th", { scope: "col" }, ["Live value"]),
        h("th", { scope: "col" }, ["Threshold"]),
        h("th", { scope: "col" }, ["Result"])
      ])]),
      h("tbody", {}, criteria.length === 0 ? [h("tr", {}, [h("td", { colspan: 4, class: "muted" }, ["None configured."])])] : criteria.map((criterion) => {
        const verdict = verdicts[criterion.status]
        return h("tr", { "data-criterion": criterion.name }, [
          h("th", { scope: "row" }, [h("code", {}, [criterion.name]), h("span", { class: "description" }, [criterion.description])]),
          h("td", { "data-label": "Live value" }, [criterion.value === null ? "no data" : measureText(criterion.value, criterion.unit)]),
          h("td", { "data-label": "Threshold" }, [measureText(criterion.threshold, criterion.unit)]),
          h("td", { class: `verdict verdict-${criterion.status}`, "data-label": "Result" }, [h("span", {}, [h("span", { "aria-hidden": "true" }, [verdict.symbol, " "]), verdict.text])])
        ])
      }))
    ])
  ])

export const makeCriteriaView = (): CriteriaView => {
  const body = h("div", { class: "stack" })
  let shown = ""
  return {
    element: h("section", { class: "card", "aria-labelledby": "guard-title" }, [h("h2", { id: "guard-title" }, ["Guard"]), body]),
    show: (status) => {
      const key = JSON.stringify(status.guard)
      if (key === shown) return
      shown = key
      const window = windowText(status.guard.windowSeconds)
      replace(body, [
        table(`Rollback triggers over the last ${window}: a failure turns the kill switch on`, status.guard.triggers),
        table(`Exit criteria of this phase over the last ${window}: all must pass before the next step`, status.guard.exitCriteria)
      ])
    }
  }
}
