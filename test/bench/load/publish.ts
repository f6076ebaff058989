/**
 * The publisher process: P notifications a second, open loop
 * (`../support/publisher.ts`), publish `i` to user `i % totalUsers`. Herald
 * gets its `Notify` RPC over HTTP through `@herald/client`, one client per
 * node, with an idempotency key per publish and retries on the next node
 * (`../support/retryingPublish.ts`); the competitors get
 * `POST /publish { userId, id, sentAt, payload }` with a payload of the size
 * of Herald's notification, round-robin over their nodes.
 *
 * Forked by `../compare.ts`: `publish` runs the warm-up and answers
 * `warmed`; `go` runs the measured publishes and answers `published`, with
 * each publish's start time on the shared clock.
 */
import { HeraldClient } from "@herald/client"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { runOpenLoop } from "../support/publisher.ts"
import { retryingPublish } from "../support/retryingPublish.ts"
import { ownCpuSeconds, shared, sharedNow } from "./clock.ts"
import { serve, send } from "./ipc.ts"
import { type Publish, type Target, ToPublisher, userName } from "./messages.ts"

type Call = (i: number, startedAt: number) => Promise<boolean>

/** One batch of publishes, ids `prefix + i` for i < count: the warm-up or the measured run. */
interface Batch {
  readonly call: Call
  /** Publishes that failed for good, by reason. */
  readonly failuresByTag: () => Record<string, number>
  /** Failed attempts that were repeated, by tag (Herald only). */
  readonly retriesByTag: () => Record<string, number>
}

type Publisher = (prefix: string, count: number) => Batch

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1
}

const heraldPublisher = async (
  target: Extract<Target, { _tag: "herald" }>,
  config: typeof Publish.Type,
  scope: Scope.Scope
): Promise<Publisher> => {
  const clients = await Promise.all(target.urls.map((url) =>
    Effect.runPromise(
      Layer.build(HeraldClient.layer({ url, apiKey: target.apiKey })).pipe(Effect.map(Context.get(HeraldClient)), Scope.provide(scope))
    )
  ))
  return (prefix, count) => {
    const { call, ledger } = retryingPublish({
      clients,
      count,
      item: (i) => ({ userId: userName(i % config.totalUsers), kind: "mention", title: `bench ${prefix}${i}`, idempotencyKey: `${prefix}${i}` }),
      firstNode: (i) => i % clients.length,
      backoffMs: { initial: 50, max: 1000 },
      attemptTimeoutMs: 15_000,
      deadlineMs: 60_000
    })
    return {
      call,
      failuresByTag: () => {
        const counts: Record<string, number> = {}
        for (const gaveUp of ledger.gaveUp) bump(counts, gaveUp.tag)
        return counts
      },
      retriesByTag: () => {
        const counts: Record<string, number> = {}
        for (const failure of ledger.failures) bump(counts, failure.tag)
        return counts
      }
    }
  }
}

const httpPublisher = (target: Extract<Target, { _tag: "http" }>, config: typeof Publish.Type): Publisher => (prefix) => {
  const failures: Record<string, number> = {}
  return {
    call: async (i) => {
      const url = target.urls[i % target.urls.length]
      const body = JSON.stringify({
        userId: userName(i % config.totalUsers),
        id: `${prefix}${i}`,
        sentAt: sharedNow(),
        // About what Herald's frame carries besides the ids, so both write frames of a similar size.
        payload: { kind: "mention", title: `bench ${prefix}${i}`, body: null, link: null, actor: null, createdAt: new Date().toISOString() }
      })
      try {
        const response = await fetch(`${url}/publish`, { method: "POST", headers: { "content-type": "application/json" }, body })
        await response.arrayBuffer()
        if (response.ok) return true
        bump(failures, `HTTP ${response.status}`)
        return false
      } catch (error: unknown) {
        bump(failures, error instanceof Error ? error.name : "Error")
        return false
      }
    },
    failuresByTag: () => failures,
    retriesByTag: () => ({})
  }
}

const state: { config: typeof Publish.Type | undefined; publisher: Publisher | undefined } = { config: undefined, publisher: undefined }
const scope = Effect.runSync(Scope.make())

serve(ToPublisher, async (message) => {
  switch (message._tag) {
    case "publish": {
      state.config = message
      const target = message.target
      const publisher = target._tag === "herald" ? await heraldPublisher(target, message, scope) : httpPublisher(target, message)
      state.publisher = publisher
      const warm = await runOpenLoop({
        count: message.warmup,
        ratePerSecond: Math.max(1, Math.min(message.ratePerSecond, 500)),
        maxInFlight: 50,
        call: publisher(`${message.prefix}w`, message.warmup).call
      })
      return send({ _tag: "warmed", failures: warm.failures })
    }
    case "go": {
      const config = state.config
      const publisher = state.publisher
      if (config === undefined || publisher === undefined) throw new Error("go before publish")
      const batch = publisher(config.prefix, config.count)
      const cpuBefore = ownCpuSeconds()
      const loop = await runOpenLoop({
        count: config.count,
        ratePerSecond: config.ratePerSecond,
        maxInFlight: config.maxInFlight,
        call: batch.call
      })
      send({
        _tag: "published",
        startedAt: Array.from(loop.startedAt, shared),
        ok: Array.from(loop.ok, (ok) => ok === 1 ? 1 : 0),
        callMs: Array.from(loop.callMs),
        lagMs: Array.from(loop.lagMs),
        failuresByTag: batch.failuresByTag(),
        retriesByTag: batch.retriesByTag(),
        sendSpanMs: loop.sendSpanMs,
        maxInFlightSeen: loop.maxInFlightSeen,
        cpuSeconds: ownCpuSeconds() - cpuBefore
      })
      await Effect.runPromise(Scope.close(scope, Exit.void))
      return
    }
  }
})
