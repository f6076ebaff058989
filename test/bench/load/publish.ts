/**
 * The publisher process: P notifications a second, open loop
 * (`../support/publisher.ts`), publish `i` to user `i % totalUsers`.
 * Publishes started in the same tick go out together, up to `publishBatch`
 * per call (`../support/publishCoalescer.ts`), by the same rule for every
 * system; calls go round-robin over the nodes. Every system's calls go over
 * undici's `request`, which costs about a quarter of `fetch`'s CPU per call
 * (the publisher shares the machine with the servers). Herald gets its
 * `Notify` RPC through `@herald/client` (`notifyBatch`) over
 * `NodeHttpClient.layerUndici`, one client per node (which merges what waits
 * for one of its `--client-calls` open calls into the next),
 * with an idempotency key per publish and retries of the whole call on the
 * next node (`../support/retryingPublish.ts`); the competitors get
 * `POST /publish` with `{ userId, id, sentAt, payload }`, or an array of
 * them for a batch of more than one, with a payload of the size of Herald's
 * notification.
 *
 * Forked by `../compare.ts`: `publish` runs the warm-up and answers
 * `warmed`; `go` runs the measured publishes and answers `published`, with
 * each publish's start time on the shared clock.
 */
import { HeraldClient } from "@herald/client"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { Agent, request } from "undici"
import { countedUndici, type RequestCount } from "../../support/CountedHttpClient.ts"
import { coalesce, type SendBatch } from "../support/publishCoalescer.ts"
import { runOpenLoop } from "../support/publisher.ts"
import { retryingPublish } from "../support/retryingPublish.ts"
import { ownCpuSeconds, shared, sharedNow } from "./clock.ts"
import { serve, send } from "./ipc.ts"
import { type Publish, type Target, ToPublisher, userName } from "./messages.ts"

/** The publishes of one run, ids `prefix + i` for i < count: the warm-up or the measured run. */
interface PublishRun {
  readonly send: SendBatch
  /** Publishes that failed for good, by reason. */
  readonly failuresByTag: () => Record<string, number>
  /** Failed attempts of a publish that were repeated, by tag (Herald only). */
  readonly retriesByTag: () => Record<string, number>
}

type Publisher = (prefix: string, count: number) => PublishRun

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by
}

// HTTP requests sent, for every system; reset when the measured run starts.
const requests: RequestCount = { count: 0 }

const heraldPublisher = async (
  target: Extract<Target, { _tag: "herald" }>,
  config: typeof Publish.Type,
  scope: Scope.Scope
): Promise<Publisher> => {
  const clients = await Promise.all(target.urls.map((url) =>
    Effect.runPromise(
      Layer.build(
        HeraldClient.layerHttpClient({
          url,
          apiKey: target.apiKey,
          ...(config.clientCallsInFlight === null ? {} : { maxNotifyCallsInFlight: config.clientCallsInFlight })
        }).pipe(Layer.provide(countedUndici(requests)))
      ).pipe(Effect.map(Context.get(HeraldClient)), Scope.provide(scope))
    )
  ))
  return (prefix, count) => {
    const { send, ledger } = retryingPublish({
      clients,
      count,
      item: (i) => ({ userId: userName(i % config.totalUsers), kind: "mention", title: `bench ${prefix}${i}`, idempotencyKey: `${prefix}${i}` }),
      firstNode: (i) => i % clients.length,
      backoffMs: { initial: 50, max: 1000 },
      attemptTimeoutMs: 15_000,
      deadlineMs: 60_000
    })
    return {
      send: (batch, sequence) => send(batch, sequence % clients.length),
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

// One pool for the process, as each Herald client has its own undici Agent.
const dispatcher = new Agent()

const httpPublisher = (target: Extract<Target, { _tag: "http" }>, config: typeof Publish.Type): Publisher => (prefix) => {
  const failures: Record<string, number> = {}
  return {
    send: async (batch, sequence) => {
      const url = target.urls[sequence % target.urls.length]
      const sentAt = sharedNow()
      const createdAt = new Date().toISOString()
      const messages = batch.map(({ index: i }) => ({
        userId: userName(i % config.totalUsers),
        id: `${prefix}${i}`,
        sentAt,
        // About what Herald's frame carries besides the ids, so both write frames of a similar size.
        payload: { kind: "mention", title: `bench ${prefix}${i}`, body: null, link: null, actor: null, createdAt }
      }))
      // A batch of one goes as the lone object it always was, so --publish-batch 1 sends what the bench did before batches.
      const body = JSON.stringify(messages.length === 1 ? messages[0] : messages)
      try {
        requests.count++
        const response = await request(`${url}/publish`, { method: "POST", headers: { "content-type": "application/json" }, body, dispatcher })
        await response.body.arrayBuffer()
        if (response.statusCode >= 200 && response.statusCode < 300) return true
        bump(failures, `HTTP ${response.statusCode}`, batch.length)
        return false
      } catch (error: unknown) {
        bump(failures, error instanceof Error ? error.name : "Error", batch.length)
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
        call: coalesce(message.publishBatch, publisher(`${message.prefix}w`, message.warmup).send).call
      })
      return send({ _tag: "warmed", failures: warm.failures })
    }
    case "go": {
      const config = state.config
      const publisher = state.publisher
      if (config === undefined || publisher === undefined) throw new Error("go before publish")
      const run = publisher(config.prefix, config.count)
      const coalescer = coalesce(config.publishBatch, run.send)
      const cpuBefore = ownCpuSeconds()
      requests.count = 0
      const loop = await runOpenLoop({
        count: config.count,
        ratePerSecond: config.ratePerSecond,
        maxInFlight: config.maxInFlight,
        call: coalescer.call
      })
      const sent = coalescer.sent()
      send({
        _tag: "published",
        startedAt: Array.from(loop.startedAt, shared),
        ok: Array.from(loop.ok, (ok) => ok === 1 ? 1 : 0),
        callMs: Array.from(loop.callMs),
        lagMs: Array.from(loop.lagMs),
        failuresByTag: run.failuresByTag(),
        retriesByTag: run.retriesByTag(),
        sendSpanMs: loop.sendSpanMs,
        maxInFlightSeen: loop.maxInFlightSeen,
        calls: sent.batches,
        largestCall: sent.largest,
        requests: requests.count,
        cpuSeconds: ownCpuSeconds() - cpuBefore
      })
      await Effect.runPromise(Scope.close(scope, Exit.void))
      return
    }
  }
})
