/**
 * The delivery latency chart: p50, p95 and p99 of one channel per minute
 * over the last hour (`latencySeries(60)`), as inline SVG built with DOM
 * calls (the CSP allows no inline markup), with axes, labels and a legend.
 * The three lines differ by dash pattern as well as colour. Screen readers
 * get the chart's name and a one-line summary, and a visually hidden table
 * of every number.
 */
import type { LatencyPoint } from "@herald/domain"
import { DateTime } from "effect"
import { h, replace, s } from "../dom.ts"
import { clockTime, isoTime, millisText } from "../format.ts"

export const chartChannels = [
  ["in_app", "In-app (written to the socket)"],
  ["ack", "In-app (acked by the client)"],
  ["push", "Push"],
  ["email", "Email"],
  ["digest", "Digest"]
] as const
export type ChartChannel = typeof chartChannels[number][0]

const series = [
  ["p50", "p50 (median)"],
  ["p95", "p95"],
  ["p99", "p99"]
] as const

// The drawing is as wide as its container (within these bounds), so its 12 px labels stay 12 px on a phone.
const minWidth = 300
const maxWidth = 900
const height = 260
const margin = { top: 16, right: 16, bottom: 36, left: 60 }
const plotHeight = height - margin.top - margin.bottom

/** The smallest 1, 2 or 5 × 10ⁿ at or above `value`, so the axis reads in round numbers. */
const niceCeiling = (value: number): number => {
  if (value <= 1) return 1
  const magnitude = 10 ** Math.floor(Math.log10(value))
  const step = [1, 2, 5, 10].find((factor) => factor * magnitude >= value) ?? 10
  return step * magnitude
}

let charts = 0

/** An axis tick: `0.25 ms`, `1.5 ms`, `2 s`. */
const tickText = (ms: number): string => ms >= 1000 ? millisText(ms) : `${Number(ms.toFixed(2))} ms`

const summary = (points: ReadonlyArray<LatencyPoint>, channel: ChartChannel, label: string): string => {
  const withData = points.filter((point) => point.channels[channel].count > 0)
  const last = withData.at(-1)
  if (last === undefined) return `${label}: no deliveries in the last ${points.length} minutes.`
  const stats = last.channels[channel]
  const total = withData.reduce((sum, point) => sum + point.channels[channel].count, 0)
  return `${label}: ${total} deliveries in the last ${points.length} minutes. Latest minute with data, ${clockTime(last.minute)}: ` +
    `p50 ${millisText(stats.p50)}, p95 ${millisText(stats.p95)}, p99 ${millisText(stats.p99)}.`
}

// Hidden through a wrapper: a table ignores the 1 px box of .visually-hidden and would still take space.
const fallbackTable = (points: ReadonlyArray<LatencyPoint>, channel: ChartChannel, label: string) =>
  h("div", { class: "visually-hidden" }, [h("table", {}, [
    h("caption", {}, [`${label} latency per minute`]),
    h("thead", {}, [h("tr", {}, [
      h("th", { scope: "col" }, ["Minute"]),
      h("th", { scope: "col" }, ["Deliveries"]),
      ...series.map(([, name]) => h("th", { scope: "col" }, [name]))
    ])]),
    h("tbody", {}, points.map((point) => {
      const stats = point.channels[channel]
      return h("tr", {}, [
        h("th", { scope: "row" }, [h("time", { datetime: isoTime(point.minute) }, [clockTime(point.minute)])]),
        h("td", {}, [stats.count]),
        ...series.map(([key]) => h("td", {}, [millisText(stats[key])]))
      ])
    }))
  ])])

/** The chart as a `<figure>`: SVG, legend and the hidden table. */
export const latencyFigure = (points: ReadonlyArray<LatencyPoint>, channel: ChartChannel, label: string, available: number): HTMLElement => {
  const width = Math.round(Math.min(maxWidth, Math.max(minWidth, available)))
  const plotWidth = width - margin.left - margin.right
  const id = `latency-chart-${++charts}`
  const values = points.flatMap((point) => series.map(([key]) => point.channels[channel][key])).filter((v) => v !== null)
  const yMax = niceCeiling(Math.max(0, ...values))
  const x = (index: number) => margin.left + (points.length <= 1 ? plotWidth / 2 : (index * plotWidth) / (points.length - 1))
  const y = (value: number) => margin.top + plotHeight - (value / yMax) * plotHeight
  const round = (n: number) => Math.round(n * 10) / 10

  // Fifths of a 5 × 10ⁿ axis and quarters of the others, so every tick is a round number.
  const fractions = String(yMax).startsWith("5") ? [0, 0.2, 0.4, 0.6, 0.8, 1] : [0, 0.25, 0.5, 0.75, 1]
  const yTicks = fractions.map((fraction) => fraction * yMax)
  const grid = yTicks.map((tick) =>
    s("g", { class: "tick" }, [
      s("line", { class: "grid", x1: margin.left, x2: width - margin.right, y1: round(y(tick)), y2: round(y(tick)) }),
      s("text", { class: "axis-label", x: margin.left - 8, y: round(y(tick)), "text-anchor": "end", "dominant-baseline": "middle" }, [tickText(tick)])
    ])
  )
  // A label at each quarter hour: 60 minute labels would never fit on a phone.
  const xTicks = points.flatMap((point, index) =>
    DateTime.toPartsUtc(point.minute).minute % 15 === 0
      ? [s("g", { class: "tick" }, [
        s("line", { class: "axis", x1: round(x(index)), x2: round(x(index)), y1: height - margin.bottom, y2: height - margin.bottom + 5 }),
        s("text", { class: "axis-label", x: round(x(index)), y: height - margin.bottom + 20, "text-anchor": "middle" }, [clockTime(point.minute)])
      ])]
      : []
  )
  const lines = series.map(([key]) => {
    let d = ""
    let drawing = false
    const dots: Array<SVGCircleElement> = []
    points.forEach((point, index) => {
      const value = point.channels[channel][key]
      if (value === null) {
        drawing = false
        return
      }
      d += `${drawing ? "L" : "M"}${round(x(index))} ${round(y(value))} `
      drawing = true
      dots.push(s("circle", { cx: round(x(index)), cy: round(y(value)), r: 2.5 }))
    })
    return s("g", { class: `series series-${key}` }, [d === "" ? null : s("path", { d: d.trim() }), ...dots])
  })
  const empty = values.length === 0
    ? s("text", { class: "empty-label", x: margin.left + plotWidth / 2, y: margin.top + plotHeight / 2, "text-anchor": "middle" }, [
      "No deliveries in this period"
    ])
    : null

  const svg = s("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": `${id}-title ${id}-desc`,
    preserveAspectRatio: "xMidYMid meet"
  }, [
    s("title", { id: `${id}-title` }, [`${label} delivery latency: p50, p95 and p99 per minute`]),
    s("desc", { id: `${id}-desc` }, [summary(points, channel, label)]),
    ...grid,
    s("line", { class: "axis", x1: margin.left, x2: margin.left, y1: margin.top, y2: height - margin.bottom }),
    s("line", { class: "axis", x1: margin.left, x2: width - margin.right, y1: height - margin.bottom, y2: height - margin.bottom }),
    ...xTicks,
    ...lines,
    empty
  ])

  const legend = h("ul", { class: "legend" }, series.map(([key, name]) =>
    h("li", {}, [
      s("svg", { class: `swatch series series-${key}`, viewBox: "0 0 28 10", width: 28, height: 10, "aria-hidden": "true" }, [
        s("path", { d: "M1 5 L27 5" })
      ]),
      name
    ])
  ))

  return h("figure", { class: "chart-figure" }, [
    svg,
    h("figcaption", {}, [legend, h("p", { class: "hint" }, [summary(points, channel, label)])]),
    fallbackTable(points, channel, label)
  ])
}

export interface LatencyView {
  readonly element: HTMLElement
  readonly show: (points: ReadonlyArray<LatencyPoint>) => void
}

/** The chart's section with its channel picker; redraws only when the numbers or the channel change. */
export const makeLatencyView = (): LatencyView => {
  const select = h("select", { id: "chart-channel" }, chartChannels.map(([value, label]) => h("option", { value }, [label])))
  const slot = h("div", { class: "chart-slot" }, [h("p", { class: "muted" }, ["Loading…"])])
  let latest: ReadonlyArray<LatencyPoint> = []
  let shown = ""
  const draw = () => {
    const picked = chartChannels.find(([value]) => value === select.value) ?? chartChannels[0]
    const available = slot.clientWidth
    const numbers = JSON.stringify(latest.map((point) => [DateTime.toEpochMillis(point.minute), point.channels[picked[0]]]))
    const key = `${picked[0]}|${available}|${numbers}`
    if (key === shown) return
    shown = key
    replace(slot, [latencyFigure(latest, picked[0], picked[1], available)])
  }
  select.addEventListener("change", draw)
  new ResizeObserver(() => latest.length > 0 && draw()).observe(slot)
  return {
    element: h("section", { class: "card", "aria-labelledby": "latency-title" }, [
      h("h2", { id: "latency-title" }, ["Delivery latency, last hour"]),
      h("div", { class: "field" }, [h("label", { for: select.id }, ["Channel"]), select]),
      slot
    ]),
    show: (points) => {
      latest = points
      draw()
    }
  }
}
