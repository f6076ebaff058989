/**
 * Where a user's sockets are open, across the cluster: how many each node
 * holds, with the node's id and address (`InspectUser`, `herald user`).
 *
 * - In-process (no `REDIS_URL`): this node is the whole cluster; it answers
 *   from its own count (`LocalSockets`).
 * - With `REDIS_URL`: the asking node publishes a question on
 *   `herald:presence:ask` naming the user and its own reply channel; every
 *   other node answers there with its id, address and count. PUBLISH says
 *   how many nodes heard the question, so the asker stops once they all
 *   answered, or after `AnswerWindow` (a node that is starting or stopping
 *   may never answer; the answer is then marked incomplete). The asking node
 *   counts itself directly, so Redis being down still gives its own sockets.
 * - A node answers only once its HTTP server listens (`announce`): before
 *   that it holds no sockets and does not know its address.
 *
 * - A node of a version without presence never hears the question, so it is
 *   not counted, nor waited for (during a rolling upgrade).
 *
 * Questions are rare (an operator's command), so each one is a single
 * PUBLISH and the answers are not cached. The two Redis connections are this
 * service's own: the fan-out bus does not share its connections.
 */
import { ConfigurationError, NodeSockets, UserConnections, UserId } from "@herald/domain"
import { Context, Deferred, Duration, Effect, Exit, FiberSet, Layer, Option, Redacted, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { createClient } from "redis"
import { isClustered } from "../cluster/ClusterLayer.ts"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { HttpServer } from "./HttpServer.ts"
import { LocalSockets } from "./LocalSockets.ts"

/** The longest the asking node waits for the other nodes' answers. */
export const AnswerWindow = Duration.millis(300)

const AskChannel = "herald:presence:ask"

const Ask = Schema.fromJsonString(Schema.Struct({ id: Schema.String, userId: UserId, replyTo: Schema.String }))
const Answer = Schema.fromJsonString(Schema.Struct({ id: Schema.String, ...NodeSockets.fields }))
const decodeAsk = Schema.decodeUnknownExit(Ask)
const decodeAnswer = Schema.decodeUnknownExit(Answer)
const encodeAsk = Schema.encodeSync(Ask)
const encodeAnswer = Schema.encodeSync(Answer)

export class Presence extends Context.Service<Presence, {
  /** The user's open sockets on every node that answered. */
  connectionsOf(userId: UserId): Effect.Effect<UserConnections>
  /** This node listens on `port` now: it counts itself and answers other nodes from now on. */
  listening(port: number): Effect.Effect<void>
}>()("@herald/server/gateway/Presence") {
  /** Over Redis when `REDIS_URL` is set, this node alone otherwise. */
  static readonly layer: Layer.Layer<Presence, ConfigurationError, HeraldConfig | LocalSockets> = Layer.unwrap(
    Effect.map(HeraldConfig, (config) =>
      Option.match(config.redisUrl, {
        onNone: () => Layer.effect(Presence, makeLocal),
        onSome: (url) => Layer.effect(Presence, makeRedis(url))
      }))
  )

  /** Tells `Presence` the HTTP port once the server listens. */
  static readonly announce: Layer.Layer<never, never, Presence | HttpServer> = Layer.effectDiscard(
    Effect.gen(function*() {
      const presence = yield* Presence
      const http = yield* HttpServer
      yield* presence.listening(http.port)
    })
  )
}

/** This node's id and its own count; the address once it listens. */
const makeSelf = Effect.gen(function*() {
  const config = yield* HeraldConfig
  const local = yield* LocalSockets
  // The runner address is the name effect/cluster (and its logs) know the node by.
  const nodeId = isClustered(config) ? `${config.cluster.host}:${config.cluster.port}` : "single"
  let port: number | undefined
  return {
    listening: (bound: number) => Effect.sync(() => void (port = bound)),
    /** Undefined until the node listens. */
    answer: (userId: UserId): NodeSockets | undefined =>
      port === undefined ? undefined : new NodeSockets({
        nodeId,
        // Where other nodes reach this one (HERALD_CLUSTER_HOST, by default HERALD_HOST), on the HTTP port.
        address: `${config.cluster.host}:${port}`,
        sockets: local.countOf(userId)
      })
  }
})

const summary = (answers: ReadonlyArray<NodeSockets>, complete: boolean) =>
  new UserConnections({
    sockets: answers.reduce((sum, answer) => sum + answer.sockets, 0),
    nodes: answers.filter((answer) => answer.sockets > 0).sort((a, b) => a.nodeId.localeCompare(b.nodeId)),
    nodesAnswered: answers.length,
    complete
  })

const makeLocal = Effect.gen(function*() {
  const self = yield* makeSelf
  return Presence.of({
    connectionsOf: Effect.fn("Presence.connectionsOf")(function*(userId: UserId) {
      const own = self.answer(userId)
      return summary(own === undefined ? [] : [own], true)
    }),
    listening: self.listening
  })
})

const errorMessage = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

interface Question {
  readonly answers: Array<NodeSockets>
  /** How many other nodes heard it, once PUBLISH has said. */
  expected: number | undefined
  readonly done: Deferred.Deferred<void>
}

const makeRedis = Effect.fnUntraced(function*(url: Redacted.Redacted<string>) {
  const self = yield* makeSelf
  const run = yield* FiberSet.makeRuntime()
  const replyTo = `herald:presence:reply:${randomUUID()}`
  const questions = new Map<string, Question>()
  // Before start, a failed connection fails the layer instead of retrying forever.
  let started = false

  const publisher = createClient({
    url: Redacted.value(url),
    socket: { reconnectStrategy: (retries: number, cause: Error) => started ? Math.min(2 ** retries * 50, 2_000) : cause }
  })
  const subscriber = publisher.duplicate()
  const connect = Effect.fnUntraced(function*(role: "publisher" | "subscriber", client: typeof publisher) {
    let up = true
    // One warning per outage; the client reconnects (and resubscribes) by itself.
    client.on("error", (cause: unknown) => {
      if (started && up) run(Effect.logWarning(`presence Redis ${role} disconnected`, errorMessage(cause)))
      up = false
    })
    client.on("ready", () => void (up = true))
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => client.connect(),
        catch: (cause) => new ConfigurationError({ message: `presence Redis (${role}) cannot be reached: ${errorMessage(cause)}` })
      }).pipe(Effect.tapError(() => Effect.sync(() => client.isOpen && client.destroy()))),
      // Waits for pending commands, but not forever: a connection lost during close would leave it pending.
      () => client.isOpen ? Effect.promise(() => client.close()).pipe(Effect.timeoutOption("5 seconds"), Effect.asVoid) : Effect.void
    )
  })
  yield* connect("publisher", publisher)
  yield* connect("subscriber", subscriber)
  started = true

  const settle = (question: Question) => {
    if (question.expected !== undefined && question.answers.length >= question.expected) {
      Deferred.doneUnsafe(question.done, Exit.void)
    }
  }

  const onAsk = (raw: string) => {
    const ask = decodeAsk(raw)
    if (Exit.isFailure(ask) || ask.value.replyTo === replyTo || !publisher.isReady) return
    const own = self.answer(ask.value.userId)
    if (own === undefined) return
    run(
      Effect.tryPromise(() => publisher.publish(ask.value.replyTo, encodeAnswer({ id: ask.value.id, ...own }))).pipe(
        Effect.catch((error) => Effect.logDebug("presence answer not sent", errorMessage(error.cause)))
      )
    )
  }

  const onAnswer = (raw: string) => {
    const answer = decodeAnswer(raw)
    if (Exit.isFailure(answer)) return
    const { id, ...node } = answer.value
    const question = questions.get(id)
    if (question === undefined) return
    question.answers.push(new NodeSockets(node))
    settle(question)
  }

  yield* Effect.tryPromise({
    try: () => Promise.all([subscriber.subscribe(AskChannel, onAsk), subscriber.subscribe(replyTo, onAnswer)]),
    catch: (cause) => new ConfigurationError({ message: `presence Redis cannot subscribe: ${errorMessage(cause)}` })
  })

  const connectionsOf = Effect.fn("Presence.connectionsOf")(function*(userId: UserId) {
    const own = self.answer(userId)
    const mine = own === undefined ? [] : [own]
    // Without both connections no answer could come back: this node alone, said to be incomplete.
    if (!publisher.isReady || !subscriber.isReady) return summary(mine, false)
    const id = randomUUID()
    const question: Question = { answers: [], expected: undefined, done: yield* Deferred.make<void>() }
    questions.set(id, question)
    return yield* Effect.gen(function*() {
      const heard = yield* Effect.tryPromise(() => publisher.publish(AskChannel, encodeAsk({ id, userId, replyTo }))).pipe(
        Effect.option
      )
      if (Option.isNone(heard)) return summary(mine, false)
      // Every node's subscriber heard it, this one's included.
      question.expected = Math.max(0, heard.value - 1)
      settle(question)
      yield* Deferred.await(question.done).pipe(Effect.timeoutOption(AnswerWindow))
      yield* Effect.annotateCurrentSpan({ expected: question.expected, answered: question.answers.length })
      return summary([...mine, ...question.answers], question.answers.length >= question.expected)
    }).pipe(Effect.ensuring(Effect.sync(() => questions.delete(id))))
  })

  return Presence.of({ connectionsOf, listening: self.listening })
})
