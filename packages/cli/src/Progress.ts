/**
 * Progress of long work (`herald replay`) on stderr, so stdout keeps only
 * results: on a terminal one bar redrawn in place; otherwise (a pipe, a log,
 * CI) a plain line at most every few seconds, so a log of a long replay
 * stays readable.
 */
import { Effect } from "effect"
import type { OutputClosed } from "./CliErrors.ts"
import { stderrLine } from "./Output.ts"

export interface ProgressState {
  readonly done: number
  readonly total: number
  readonly delivered: number
  readonly failed: number
  readonly skipped: number
  /** Items per second so far. */
  readonly rate: number
}

const PlainEveryMillis = 5_000
const BarWidth = 24

const number = (n: number) => n.toLocaleString("en-US")

const eta = (state: ProgressState) => {
  if (state.rate <= 0 || state.done >= state.total) return ""
  const seconds = Math.ceil((state.total - state.done) / state.rate)
  return seconds < 120 ? `  ETA ${seconds}s` : `  ETA ${Math.ceil(seconds / 60)}m`
}

/** `4,500/10,000 45%  delivered 4,400  failed 0  skipped 100  812/s  ETA 7s`. */
export const progressText = (state: ProgressState): string => {
  const percent = state.total === 0 ? 100 : Math.min(100, Math.floor((100 * state.done) / state.total))
  return `${number(state.done)}/${number(state.total)} ${percent}%  delivered ${number(state.delivered)}  ` +
    `failed ${number(state.failed)}  skipped ${number(state.skipped)}  ${number(Math.round(state.rate))}/s${eta(state)}`
}

/** `[##########··············]`: the share done, `width` characters wide. */
export const progressBar = (done: number, total: number, width = BarWidth): string => {
  const filled = total === 0 ? width : Math.min(width, Math.floor((width * done) / total))
  return `[${"#".repeat(filled)}${"·".repeat(width - filled)}]`
}

export interface Progress {
  readonly update: (state: ProgressState) => Effect.Effect<void, OutputClosed>
  /** Ends the bar's line (a terminal) so what follows starts on a line of its own. */
  readonly end: Effect.Effect<void, OutputClosed>
}

const write = (text: string) =>
  Effect.callback<void>((resume) => {
    process.stderr.write(text, () => resume(Effect.void))
  })

/** A progress display labelled `label`, a bar when stderr is a terminal. */
export const makeProgress = (label: string): Progress => {
  if (process.stderr.isTTY === true) {
    let drawn = false
    return {
      update: (state) =>
        Effect.suspend(() => {
          drawn = true
          const line = `${label} ${progressBar(state.done, state.total)} ${progressText(state)}`
          // A terminal that reports no size (under `script`, some CI runners) counts as 120 wide.
          const columns = process.stderr.columns > 0 ? process.stderr.columns : 120
          return write(`\r\x1b[2K${line.slice(0, Math.max(20, columns - 1))}`)
        }),
      end: Effect.suspend(() => (drawn ? write("\n") : Effect.void))
    }
  }
  let last = 0
  let lastDone = -1
  return {
    update: (state) =>
      Effect.suspend(() => {
        const now = Date.now()
        const finished = state.done >= state.total
        if (state.done === lastDone || (now - last < PlainEveryMillis && !finished)) return Effect.void
        last = now
        lastDone = state.done
        return stderrLine(`${label}: ${progressText(state)}`)
      }),
    end: Effect.void
  }
}
