/**
 * Load for the cluster tests: users with a `NotificationSocket` each (which
 * dials the nodes in turn when a connection ends), and a publisher that
 * retries every notification on the next node with the same idempotency key
 * until one accepts it, as an app should.
 */
import { type HeraldClient, NotificationSocket } from "@herald/client"
import { Effect, Exit, Fiber, type Scope, Stream } from "effect"
import type { ClusterNode } from "../support/Cluster.ts"

/** `count` user ids starting with `prefix`. */
export const users = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-u${i}`)

export interface Receiver {
  readonly userId: string
  /** Ids in the order the socket emitted them to the app. */
  readonly ids: Array<string>
  /** How many times the socket went to "reconnecting". */
  readonly reconnects: () => number
}

/** A socket for `userId` that dials the nodes in turn, starting at `first`. */
export const openReceiver = (
  client: HeraldClient["Service"],
  nodes: ReadonlyArray<ClusterNode>,
  userId: string,
  first: number
) =>
  Effect.gen(function*() {
    const { token } = yield* client.issueClientToken(userId)
    const rotated = nodes.map((_, i) => nodes[(first + i) % nodes.length]?.wsUrl ?? "")
    const [head, ...rest] = rotated
    let reconnects = 0
    const socket = yield* NotificationSocket.make({
      url: [head ?? "", ...rest],
      token,
      backoff: { initialMs: 100, maxMs: 1_000 },
      onState: (state) => {
        if (state === "reconnecting") reconnects++
      }
    })
    const receiver: Receiver = { userId, ids: [], reconnects: () => reconnects }
    yield* socket.notifications.pipe(
      Stream.runForEach((notification) => Effect.sync(() => receiver.ids.push(notification.id))),
      Effect.forkScoped
    )
    // Live once the server has caught it up, so that everything published from now on reaches it.
    yield* socket.stateChanges.pipe(Stream.takeUntil((state) => state === "open"), Stream.runDrain)
    return receiver
  })

export interface Accepted {
  readonly userId: string
  readonly id: string
  readonly key: string
  /** Calls made until one succeeded. */
  readonly attempts: number
  /** From the first call to the accepting answer. */
  readonly millis: number
}

/** Publishes one notification, retrying on the next node with the same key until accepted. */
export const publishReliably = (
  clients: ReadonlyArray<HeraldClient["Service"]>,
  start: number,
  item: { readonly userId: string; readonly key: string; readonly title: string }
) =>
  Effect.gen(function*() {
    const began = Date.now()
    for (let attempt = 0; ; attempt++) {
      const client = clients[(start + attempt) % clients.length]
      if (client === undefined) return yield* Effect.die("no clients")
      const exit = yield* Effect.exit(
        client.notify({ userId: item.userId, kind: "mention", title: item.title, idempotencyKey: item.key }).pipe(
          Effect.timeout("15 seconds")
        )
      )
      if (Exit.isSuccess(exit)) {
        return {
          userId: item.userId,
          id: exit.value.id,
          key: item.key,
          attempts: attempt + 1,
          millis: Date.now() - began
        } satisfies Accepted
      }
      if (attempt > 200) return yield* Effect.die(`gave up publishing ${item.key}`)
      yield* Effect.sleep("100 millis")
    }
  })

/**
 * Publishes `total` notifications round-robin over the users and nodes from
 * `workers` concurrent publishers; `during(i)` runs (forked) when the i-th is
 * about to go out, for faults in the middle of the load.
 */
export const runLoad = (options: {
  readonly clients: ReadonlyArray<HeraldClient["Service"]>
  readonly users: ReadonlyArray<string>
  readonly total: number
  readonly workers: number
  readonly prefix: string
  readonly pauseMillis: number
  readonly during?: (sequence: number) => Effect.Effect<void, unknown, Scope.Scope> | undefined
}) =>
  Effect.gen(function*() {
    const accepted: Array<Accepted> = []
    const faults: Array<Fiber.Fiber<void, unknown>> = []
    let next = 0
    const worker = Effect.gen(function*() {
      while (next < options.total) {
        const sequence = next++
        const fault = options.during?.(sequence)
        // In the test's scope, not the worker's: a worker that finishes first would interrupt it.
        if (fault !== undefined) faults.push(yield* Effect.forkScoped(fault))
        const userId = options.users[sequence % options.users.length] ?? ""
        accepted.push(yield* publishReliably(options.clients, sequence, {
          userId,
          key: `${options.prefix}-${sequence}`,
          title: `n${sequence}`
        }))
        yield* Effect.sleep(options.pauseMillis)
      }
    })
    yield* Effect.all(Array.from({ length: options.workers }, () => worker), { concurrency: "unbounded", discard: true })
    for (const fault of faults) yield* Fiber.join(fault)
    return accepted
  })

/** Per user: accepted ids never received, and ids the app saw more than once. */
export const reconcile = (receivers: ReadonlyArray<Receiver>, accepted: ReadonlyArray<Accepted>) => {
  const missing: Array<string> = []
  const duplicated: Array<string> = []
  const unexpected: Array<string> = []
  for (const receiver of receivers) {
    const wanted = new Set(accepted.filter((a) => a.userId === receiver.userId).map((a) => a.id))
    const seen = new Set<string>()
    for (const id of receiver.ids) {
      if (seen.has(id)) duplicated.push(`${receiver.userId}:${id}`)
      seen.add(id)
      if (!wanted.has(id)) unexpected.push(`${receiver.userId}:${id}`)
    }
    for (const id of wanted) if (!seen.has(id)) missing.push(`${receiver.userId}:${id}`)
  }
  return { missing, duplicated, unexpected }
}

/** Waits until every receiver holds every accepted id (or the attempts run out). */
export const awaitDelivered = (receivers: ReadonlyArray<Receiver>, accepted: ReadonlyArray<Accepted>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      if (reconcile(receivers, accepted).missing.length === 0) break
      yield* Effect.sleep("100 millis")
    }
    return reconcile(receivers, accepted)
  })
