/**
 * A load generator process: opens its share of the run's sockets (one per
 * user) to Herald, the bare `ws` server or Socket.IO, and records every
 * notification's arrival. Forked by `../compare.ts`, driven over IPC
 * (`messages.ts`): `prepare` signs Herald's client tokens (as
 * `../support/benchKeys.ts` does, with the run's secret) so that `open` times
 * the connections alone; `progress` goes out every 200 ms; `report` sends the
 * receipts; `close` closes the sockets and exits.
 *
 * Arrival times are taken before the frame is parsed (Socket.IO's client
 * parses before it hands the event over) and sent on the shared clock.
 */
import { signTokenWith } from "../support/benchKeys.ts"
import { makeReceipts, type Receipts } from "../support/receipts.ts"
import { openPool } from "../support/socketPool.ts"
import { type CompetitorPool, openCompetitorPool } from "./competitorPool.ts"
import { ownCpuSeconds, shared, sharedNow } from "./clock.ts"
import { serve, send } from "./ipc.ts"
import { type Prepare, ToSockets, userName } from "./messages.ts"

type Pool = Pick<CompetitorPool, "connectMs" | "failures" | "counters" | "closeAll">

interface Prepared {
  readonly config: typeof Prepare.Type
  readonly users: ReadonlyArray<string>
  readonly tokens: ReadonlyArray<string>
  readonly receipts: Receipts
}

const state: { prepared: Prepared | undefined; pool: Pool | undefined; progress: ReturnType<typeof setInterval> | undefined } = {
  prepared: undefined,
  pool: undefined,
  progress: undefined
}

const receivedCount = (receipts: Receipts): number => {
  let n = 0
  for (const at of receipts.receivedAt) if (!Number.isNaN(at)) n++
  return n
}

const open = async (prepared: Prepared): Promise<Pool> => {
  const { config, users, receipts } = prepared
  return config.protocol === "herald"
    ? openPool({
      wsUrl: config.urls,
      users,
      tokens: prepared.tokens,
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      onNotification: receipts.onNotification
    })
    : openCompetitorPool({
      protocol: config.protocol,
      urls: config.urls,
      users,
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      onNotification: receipts.onNotification
    })
}

const tally = (codes: ReadonlyArray<string | undefined>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const code of codes) counts[code ?? "unknown"] = (counts[code ?? "unknown"] ?? 0) + 1
  return counts
}

serve(ToSockets, async (message) => {
  switch (message._tag) {
    case "prepare": {
      const users = Array.from({ length: message.users }, (_, i) => userName(message.firstUser + i))
      const tokens = message.protocol === "herald" ? await Promise.all(users.map((user) => signTokenWith(message.tokenSecret, user))) : []
      const receipts = makeReceipts({
        count: message.publishes,
        prefix: message.prefix,
        ignorePrefix: `${message.prefix}w`,
        userOf: (i) => userName(i % message.totalUsers)
      })
      state.prepared = { config: message, users, tokens, receipts }
      return send({ _tag: "prepared" })
    }
    case "open": {
      const prepared = state.prepared
      if (prepared === undefined) throw new Error("open before prepare")
      const startedAt = sharedNow()
      const pool = await open(prepared)
      const endedAt = sharedNow()
      state.pool = pool
      send({
        _tag: "opened",
        sockets: pool.connectMs.length,
        failures: pool.failures.length,
        failureCodes: tally(pool.failures.map((failure) => failure.code)),
        firstFailure: pool.failures[0]?.message ?? null,
        startedAt,
        endedAt,
        connectMs: pool.connectMs
      })
      state.progress = setInterval(() => {
        send({ _tag: "progress", received: receivedCount(prepared.receipts), lastAt: shared(prepared.receipts.lastProgressAt()) })
      }, 200)
      return
    }
    case "report": {
      const prepared = state.prepared
      const pool = state.pool
      if (prepared === undefined || pool === undefined) throw new Error("report before open")
      const indices: Array<number> = []
      const at: Array<number> = []
      prepared.receipts.receivedAt.forEach((time, index) => {
        if (Number.isNaN(time)) return
        indices.push(index)
        at.push(shared(time))
      })
      const counters = pool.counters()
      const counts = prepared.receipts.counts
      return send({
        _tag: "receipts",
        indices,
        at,
        wireDuplicates: counts.wireDuplicates,
        appDuplicates: counts.duplicates,
        misdelivered: counts.misdelivered,
        unmatched: counts.unmatched,
        warmupFrames: counts.ignored,
        open: counters.open,
        closedUnexpectedly: counters.closedUnexpectedly,
        errorFrames: counters.errorFrames,
        cpuSeconds: ownCpuSeconds()
      })
    }
    case "close": {
      if (state.progress !== undefined) clearInterval(state.progress)
      await state.pool?.closeAll()
      process.exit(0)
    }
  }
})
