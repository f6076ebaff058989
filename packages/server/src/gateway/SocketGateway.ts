/**
 * The WebSocket gateway at `/ws` (on `ws`): authenticates each socket by its
 * first frame, catches it up from its cursor, then writes live frames from
 * the fan-out bus. The protocol is `docs/protocol.md`.
 *
 * Ordering without gaps or duplicates: a socket subscribes to the bus
 * *before* reading the database, buffers live frames while it replays, then
 * sends only buffered frames above the last replayed cursor. Every later
 * frame is checked against the last cursor sent, and against the previous
 * cursor it names: a socket that missed one catches up from the store.
 *
 * Socket events are callbacks on the hot path, so per-frame work is plain
 * code; only authentication and catch-up (database reads) run as effects.
 *
 * Limits (docs/security.md): upgrades are refused with HTTP 403 from an
 * origin outside `HERALD_ALLOWED_ORIGINS` and 429 past the per-IP rate or
 * socket count; a user past their socket count, and a socket sending frames
 * far past its rate, is closed with 4429; a socket whose unsent bytes pass
 * the buffer bound (a client reading too slowly) is closed with 4409. Each
 * of those clients may come back and resume from its cursor: nothing is lost.
 */
import { Cursor, Socket, type TokenRejected, type UserId } from "@herald/domain"
import { Context, Duration, Effect, Exit, FiberSet, Layer, Option, References, Schedule, Schema, SchemaIssue, type Tracer } from "effect"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { type RawData, type WebSocket, WebSocketServer } from "ws"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { FanoutBus, type FanoutMessage, type Unsubscribe } from "../fanout/FanoutBus.ts"
import { notificationFrameText } from "../fanout/NotificationFrames.ts"
import { AckWriter } from "../storage/AckWriter.ts"
import { NotificationRepo } from "../storage/NotificationRepo.ts"
import {
  inAppAckLatency,
  inAppDelivered,
  inAppDeliveryLatency,
  replayFramesWritten,
  socketAuthFailures,
  socketConnects,
  socketErrors,
  socketReconnects,
  rateLimitedUnsafe,
  socketsLive
} from "../telemetry/Metrics.ts"
import { RolloutGuard } from "../rollout/RolloutGuard.ts"
import { spanFromTraceparent } from "../telemetry/TraceContext.ts"
import { hashUserId } from "../telemetry/UserHash.ts"
import { ClientTokens } from "./ClientTokens.ts"
import { EdgeRateLimits } from "./EdgeRateLimits.ts"
import { clientIp } from "./ClientIp.ts"
import { TokenRevocations } from "./TokenRevocations.ts"

const ReplayPageSize = 500
const MaxUnacked = 256
const NoCursor = Cursor.make(0)
/** How long a client refused for too many sockets is asked to wait before trying again. */
const TooManySocketsRetryMs = 5_000
/** A socket that sends this many times its frame budget in one refill is closed, not just refused. */
const FloodFactor = 4
/** How often a catch-up looks whether a slow client has read enough for the next page. */
const DrainPoll = Duration.millis(20)
/**
 * Heartbeat sweeps per interval: each pings the sockets whose ping fell due since the last, so
 * about 1/64 of them. At 16, a sweep wrote 625 pings at once with 10,000 sockets, and the 625
 * pongs came back together; p99 at 200/s was 30–47 ms against 14–21 ms at 64, for about 1 %
 * more server CPU spent walking the sockets (docs/performance.md, 2026-12-07).
 */
const SweepsPerHeartbeat = 64

interface Connection {
  readonly ws: WebSocket
  state: "auth" | "authenticating" | "syncing" | "live" | "closed"
  userId: UserId | undefined
  /** The token's `iat`, for revocations. */
  issuedAt: number
  readonly ip: string
  /** Frame budget (token bucket) and when it was last refilled. */
  frameTokens: number
  refilledAt: number
  /** Frames refused since the budget last ran out; an error frame goes with the first only. */
  refused: number
  lastSent: Cursor
  buffer: Array<FanoutMessage>
  lastSeen: number
  /** When the socket was last pinged; before its first ping, the origin of its schedule (may lie ahead). */
  lastPing: number
  subscription: Unsubscribe | undefined
  authTimer: ReturnType<typeof setTimeout> | undefined
  /** The user's pseudonym in spans (`hashUserId`), made when a span first needs it. */
  userHash: string | undefined
  /**
   * Frames written live and not acked yet: for the ack latency and the ack span. Made at the
   * first frame written: most sockets sit idle, and an empty Map per socket adds up.
   */
  unacked: Map<Cursor, {
    readonly parent: Tracer.ExternalSpan | undefined
    readonly writtenAt: bigint
    readonly acceptedAt: number
    readonly kind: string
  }> | undefined
  /** The highest `previous` cursor a frame named that had not been sent: a catch-up covers up to it. */
  gapUntil: Cursor
}

export class SocketGateway extends Context.Service<SocketGateway, {
  /** Takes over an HTTP upgrade request for `/ws`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Closes every socket with 1001 (going away), so clients reconnect elsewhere or later. */
  readonly closeAll: Effect.Effect<void>
  readonly connectionCount: () => number
}>()("@herald/server/gateway/SocketGateway") {
  static readonly layer = Layer.effect(SocketGateway, make())
}

const decodeClientFrame = Schema.decodeUnknownExit(Socket.ClientFrameJson)
const formatIssue = SchemaIssue.makeFormatterDefault()
const encodeServerFrame = Schema.encodeSync(Socket.ServerFrame)
// A function, so TypeScript does not narrow `state` across the yields where a close event can change it.
const isClosed = (conn: Connection) => conn.state === "closed"
const userHashOf = (conn: Connection) => conn.userHash ??= conn.userId === undefined ? "" : hashUserId(conn.userId)
// A cleared timer's object stays reachable while the connection points at it.
const clearAuthTimer = (conn: Connection) => {
  if (conn.authTimer === undefined) return
  clearTimeout(conn.authTimer)
  conn.authTimer = undefined
}
const frameText = (frame: Socket.ServerFrame) => JSON.stringify(encodeServerFrame(frame))
const pingText = frameText(new Socket.PingFrame({ type: "ping" }))
const pongText = frameText(new Socket.PongFrame({ type: "pong" }))
const slowConsumerText = frameText(new Socket.ErrorFrame({
  type: "error",
  code: "slow_consumer",
  message: "frames were not read fast enough; reconnect and resume from the last cursor seen"
}))

function make() {
  return Effect.gen(function*() {
    const config = yield* HeraldConfig
    const repo = yield* NotificationRepo
    const acks = yield* AckWriter
    const guard = yield* RolloutGuard
    const tokens = yield* ClientTokens
    const revocations = yield* TokenRevocations
    const rateLimits = yield* EdgeRateLimits
    const limits = config.limits
    const allowedOrigins = new Set(config.allowedOrigins)
    /** Per user and per IP, the sockets open on this node (for the per-user and per-IP limits, and revocations). */
    const byUser = new Map<UserId, Set<Connection>>()
    const perIp = new Map<string, number>()
    const bus = yield* FanoutBus
    const run = yield* FiberSet.makeRuntime()
    const context = yield* Effect.context()
    const heartbeatMs = Duration.toMillis(config.heartbeat)
    const authTimeoutMs = Duration.toMillis(config.authTimeout)
    const connections = new Set<Connection>()
    // Sockets accepted so far: spreads their heartbeat schedules (see `sweep`).
    let accepted = 0

    const wss = yield* Effect.acquireRelease(
      Effect.sync(() =>
        // The gateway keeps its own set of connections; ws's client tracking would be a second one.
        new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: Socket.MaxClientFrameBytes, perMessageDeflate: false })
      ),
      (wss) => Effect.callback<void>((resume) => wss.close(() => resume(Effect.void)))
    )

    const send = (conn: Connection, text: string) => {
      if (conn.state === "closed") return
      conn.ws.send(text)
      // What the client has not read yet piles up here; past the bound it is better resumed later
      // from its cursor than held in this process's memory.
      // Only live frames: a catch-up waits for the socket to drain between pages instead.
      if (conn.state === "live" && conn.ws.bufferedAmount > limits.socketBuffer) {
        // Not a failed session for the rollout guard: a slow network is the client's, not Herald's.
        rateLimitedUnsafe("slow_consumer", context)
        conn.ws.send(slowConsumerText)
        close(conn, Socket.CloseCodes.slowConsumer, "slow consumer")
      }
    }

    const sendError = (conn: Connection, code: Socket.SocketErrorCode, message: string, retryAfterMs?: number) =>
      send(
        conn,
        frameText(new Socket.ErrorFrame(
          retryAfterMs === undefined ? { type: "error", code, message } : { type: "error", code, message, retryAfterMs }
        ))
      )

    // A token bucket per socket, refilled continuously: plain arithmetic, no timer per socket.
    const takeFrame = (conn: Connection): boolean => {
      const perSecond = limits.framesPerSocket
      if (perSecond === 0) return true
      const now = Date.now()
      conn.frameTokens = Math.min(perSecond, conn.frameTokens + ((now - conn.refilledAt) * perSecond) / 1000)
      conn.refilledAt = now
      if (conn.frameTokens >= 1) {
        conn.frameTokens -= 1
        conn.refused = 0
        return true
      }
      conn.refused++
      rateLimitedUnsafe("frames", context)
      const retryAfterMs = Math.ceil(((1 - conn.frameTokens) * 1000) / perSecond)
      if (conn.refused > perSecond * FloodFactor) {
        sendError(conn, "rate_limited", `over ${perSecond} frames per second for too long`, TooManySocketsRetryMs)
        close(conn, Socket.CloseCodes.limited, "frame flood")
      } else if (conn.refused === 1) {
        sendError(conn, "rate_limited", `at most ${perSecond} frames per second; frames are dropped until then`, retryAfterMs)
      }
      return false
    }

    // Socket writes and client acks are spans of the notification's own trace, made here in the
    // socket callbacks (no fiber per frame) from the trace context the frame carries.
    const tracer = yield* Effect.tracer
    const tracing = yield* References.TracerEnabled
    const nowNanos = () => BigInt(Date.now()) * 1_000_000n
    const deliverySpan = (
      name: string,
      parent: Tracer.ExternalSpan,
      startTime: bigint,
      attributes: Record<string, string | number>
    ) => {
      const span = tracer.span({
        name,
        parent: Option.some(parent),
        annotations: Context.empty(),
        links: [],
        startTime,
        kind: "producer",
        root: false,
        sampled: parent.sampled
      })
      for (const [key, value] of Object.entries(attributes)) span.attribute(key, value)
      span.end(nowNanos(), Exit.void)
    }
    // Every live write is remembered until acked (bounded), for the ack latency metric and,
    // with tracing on, the ack span.
    const recordWrite = (conn: Connection, message: FanoutMessage) => {
      const writtenAt = nowNanos()
      const parent = tracing ? Option.getOrUndefined(spanFromTraceparent(message.trace)) : undefined
      if (parent !== undefined) {
        deliverySpan("Delivery.socket", parent, writtenAt, {
          "herald.channel": "in_app",
          "herald.kind": message.kind,
          "herald.user": userHashOf(conn),
          "herald.attempt": 1,
          "herald.outcome": "written",
          "herald.cursor": message.cursor
        })
      }
      const unacked = conn.unacked ??= new Map()
      unacked.set(message.cursor, { parent, writtenAt, acceptedAt: message.acceptedAt, kind: message.kind })
      // A client that never acks must not grow this without bound.
      if (unacked.size > MaxUnacked) {
        const oldest = unacked.keys().next()
        if (!oldest.done) unacked.delete(oldest.value)
      }
    }
    const recordAcks = (conn: Connection, cursor: Cursor) => {
      const now = Date.now()
      const unacked = conn.unacked
      if (unacked === undefined) return
      for (const [sent, entry] of unacked) {
        if (sent > cursor) continue
        unacked.delete(sent)
        inAppAckLatency.updateUnsafe(now - entry.acceptedAt, context)
        guard.window.ackLatency(now - entry.acceptedAt)
        if (entry.parent === undefined) continue
        deliverySpan("Delivery.ack", entry.parent, entry.writtenAt, {
          "herald.channel": "in_app",
          "herald.kind": entry.kind,
          "herald.user": userHashOf(conn),
          "herald.outcome": "acked",
          "herald.cursor": sent
        })
      }
    }

    // One per authenticated session at most: what the rollout guard's socket error rate counts.
    const sessionFailed = (conn: Connection) => {
      if (conn.userId === undefined || conn.state === "closed") return
      guard.window.sessionFailed()
      socketErrors.updateUnsafe(1, context)
    }

    const close = (conn: Connection, code: number, reason: string) => {
      if (conn.state === "closed") return
      conn.ws.close(code, reason)
      release(conn)
    }

    const release = (conn: Connection) => {
      if (conn.state === "closed") return
      if (conn.userId !== undefined) {
        socketsLive.modifyUnsafe(-1, context)
        const sockets = byUser.get(conn.userId)
        sockets?.delete(conn)
        if (sockets?.size === 0) byUser.delete(conn.userId)
      }
      const fromIp = (perIp.get(conn.ip) ?? 1) - 1
      if (fromIp === 0) perIp.delete(conn.ip)
      else perIp.set(conn.ip, fromIp)
      conn.state = "closed"
      connections.delete(conn)
      clearAuthTimer(conn)
      const unsubscribe = conn.subscription
      conn.subscription = undefined
      unsubscribe?.()
    }

    const deliver = (conn: Connection, message: FanoutMessage) => {
      if (message.replay === true) return deliverReplay(conn, message)
      if (conn.state === "live") {
        if (message.cursor <= conn.lastSent) return
        if (message.previous > conn.lastSent) {
          // A frame before this one never arrived: catch up from the store, which has both.
          // Whatever the store holds up to `previous` is then sent, so the gap counts as closed
          // up to there even if that row is not an in-app one any more (never a loop).
          if (message.previous > conn.gapUntil) conn.gapUntil = message.previous
          onGap(conn)
          conn.buffer.push(message)
          return
        }
        conn.lastSent = message.cursor
        send(conn, message.frame)
        recordWrite(conn, message)
        inAppDelivered.updateUnsafe(1, context)
        const latency = Date.now() - message.acceptedAt
        inAppDeliveryLatency.updateUnsafe(latency, context)
        guard.window.deliveryLatency(latency)
      } else if (conn.state === "syncing") {
        conn.buffer.push(message)
      }
    }

    // A replayed frame is outside cursor order and leaves the socket's position alone: the
    // client drops it if it has shown that id. During a catch-up it waits for the live frames.
    const deliverReplay = (conn: Connection, message: FanoutMessage) => {
      if (conn.state === "live") {
        send(conn, message.frame)
        replayFramesWritten.updateUnsafe(1, context)
      } else if (conn.state === "syncing") {
        conn.buffer.push(message)
      }
    }

    const onTokenRejected = (conn: Connection, error: TokenRejected) => {
      socketAuthFailures.updateUnsafe(1, context)
      sendError(conn, error.reason, error.message)
      close(
        conn,
        error.reason === "token_expired" ? Socket.CloseCodes.tokenExpired : Socket.CloseCodes.invalidToken,
        error.reason
      )
    }

    // Sends, in pages, every in-app notification after `after`; returns the last cursor sent.
    const replayAfter = Effect.fnUntraced(function*(conn: Connection, userId: UserId, after: Cursor) {
      let sent = after
      while (conn.state === "syncing") {
        const page = yield* repo.pageAfter(userId, sent, ReplayPageSize)
        for (const notification of page) send(conn, notificationFrameText(notification))
        const last = page.at(-1)
        if (last !== undefined) sent = last.cursor
        if (page.length < ReplayPageSize) break
        // Backpressure: a long catch-up is written as fast as the client reads it, never piled up here.
        while (conn.state === "syncing" && conn.ws.bufferedAmount > limits.socketBuffer) yield* Effect.sleep(DrainPoll)
      }
      return sent
    })

    const goLive = (conn: Connection, sent: Cursor) => {
      conn.lastSent = sent
      conn.state = "live"
      const buffered = conn.buffer
      conn.buffer = []
      for (const message of buffered) deliver(conn, message)
    }

    // The bus may have dropped frames (a Redis reconnect): catch the socket up from the store,
    // buffering live frames meanwhile, exactly as after a resume.
    const onGap = (conn: Connection) => {
      const userId = conn.userId
      if (conn.state !== "live" || userId === undefined) return
      conn.state = "syncing"
      run(
        replayAfter(conn, userId, conn.lastSent).pipe(
          Effect.flatMap((sent) =>
            Effect.sync(() => conn.state === "syncing" && goLive(conn, sent > conn.gapUntil ? sent : conn.gapUntil))
          ),
          Effect.catchTag("StorageUnavailable", () =>
            Effect.sync(() => {
              sessionFailed(conn)
              close(conn, 1011, "storage unavailable; reconnect and resume")
            }))
        )
      )
    }

    const authenticate = Effect.fn("SocketGateway.authenticate")(function*(conn: Connection, frame: Socket.AuthFrame) {
      const { issuedAt, userId } = yield* tokens.verify(frame.token)
      if (conn.state !== "authenticating") return
      clearAuthTimer(conn)
      const sockets = byUser.get(userId)
      if (limits.socketsPerUser > 0 && (sockets?.size ?? 0) >= limits.socketsPerUser) {
        rateLimitedUnsafe("sockets_per_user", context)
        sendError(conn, "too_many_sockets", `at most ${limits.socketsPerUser} sockets per user`, TooManySocketsRetryMs)
        return close(conn, Socket.CloseCodes.limited, "too many sockets")
      }
      if (sockets === undefined) byUser.set(userId, new Set([conn]))
      else sockets.add(conn)
      conn.userId = userId
      conn.issuedAt = issuedAt
      conn.state = "syncing"
      socketConnects.updateUnsafe(1, context)
      if (frame.resume !== undefined) socketReconnects.updateUnsafe(1, context)
      guard.window.sessionOpened(frame.resume !== undefined)
      socketsLive.modifyUnsafe(1, context)
      yield* Effect.annotateCurrentSpan({ resume: frame.resume ?? -1 })
      const unsubscribe = yield* bus.subscribe(userId, (message) => deliver(conn, message), () => onGap(conn))
      // The socket may have closed while this fiber ran; then nobody else would end the subscription.
      if (isClosed(conn)) return unsubscribe()
      conn.subscription = unsubscribe
      const latest = yield* repo.latestCursor(userId)
      send(conn, frameText(new Socket.ReadyFrame({ type: "ready", userId, cursor: latest, heartbeatMs })))
      const sent = frame.resume === undefined
        ? latest
        : yield* replayAfter(conn, userId, frame.resume < latest ? frame.resume : latest)
      if (conn.state !== "syncing") return
      send(conn, frameText(new Socket.SyncedFrame({ type: "synced", cursor: sent })))
      goLive(conn, sent)
    }, (effect, conn) =>
      effect.pipe(
        Effect.catchTags({
          TokenRejected: (error) => Effect.sync(() => onTokenRejected(conn, error)),
          StorageUnavailable: (error) =>
            Effect.sync(() => {
              sendError(conn, "internal", "the server cannot read notifications right now; reconnect shortly")
              sessionFailed(conn)
              close(conn, 1011, "storage unavailable")
            }).pipe(Effect.andThen(Effect.logWarning("socket catch-up failed", error.message)))
        })
      ))

    const onMessage = (conn: Connection, data: RawData, isBinary: boolean) => {
      conn.lastSeen = Date.now()
      if (!takeFrame(conn)) return
      const decoded = decodeClientFrame(isBinary ? "" : data.toString())
      if (Exit.isFailure(decoded)) {
        const reason = decoded.cause.reasons[0]
        const issue = reason?._tag === "Fail" ? formatIssue(reason.error.issue) : "not a frame"
        return sendError(conn, "malformed_frame", isBinary ? "frames must be JSON text, not binary" : issue)
      }
      const frame = decoded.value
      switch (frame.type) {
        case "auth": {
          if (conn.state !== "auth") return sendError(conn, "already_authenticated", "this socket is already authenticated")
          conn.state = "authenticating"
          run(authenticate(conn, frame))
          return
        }
        case "ack": {
          if (conn.userId === undefined) return sendError(conn, "not_authenticated", "send an auth frame first")
          acks.recordUnsafe(conn.userId, frame.cursor)
          recordAcks(conn, frame.cursor)
          return
        }
        case "ping":
          return send(conn, pongText)
        case "pong":
          return
      }
    }

    const accept = (ws: WebSocket, ip: string) => {
      const now = Date.now()
      perIp.set(ip, (perIp.get(ip) ?? 0) + 1)
      const conn: Connection = {
        ws,
        state: "auth",
        userId: undefined,
        issuedAt: 0,
        ip,
        frameTokens: limits.framesPerSocket,
        refilledAt: now,
        refused: 0,
        lastSent: NoCursor,
        buffer: [],
        lastSeen: now,
        // The first ping comes between one interval and one and a half after the socket opens,
        // at a point of its own (golden-ratio steps over the half interval): sockets that open
        // together, as after a deploy, are then pinged apart, and still well within the two
        // silent intervals after which a client gives the server up.
        lastPing: now + (((accepted++ * 0.6180339887) % 1) * heartbeatMs) / 2,
        subscription: undefined,
        authTimer: undefined,
        gapUntil: NoCursor,
        userHash: undefined,
        unacked: undefined,
      }
      connections.add(conn)
      conn.authTimer = setTimeout(() => {
        if (conn.state === "auth" || conn.state === "authenticating") {
          socketAuthFailures.updateUnsafe(1, context)
          sendError(conn, "timeout", `no valid auth frame within ${authTimeoutMs} ms`)
          close(conn, Socket.CloseCodes.timeout, "auth timeout")
        }
      }, authTimeoutMs)
      ws.on("message", (data, isBinary) => onMessage(conn, data, isBinary))
      ws.on("close", (code) => {
        // A close the client started: 1000/1001/1005 are orderly, anything else (1006: the
        // connection just dropped) ended the session in an error.
        if (code !== 1000 && code !== 1001 && code !== 1005) sessionFailed(conn)
        release(conn)
      })
      // `ws` closes with 1009 itself when a frame exceeds maxPayload; the error only needs swallowing.
      ws.on("error", () => {
        sessionFailed(conn)
        release(conn)
      })
    }

    // Each socket is pinged once an interval on its own schedule, so a sweep pings only the few
    // that fell due since the last one. Sweeping every half interval pinged together every socket
    // that fell due in it: with 10,000 sockets, 60–100 ms of socket writes in one turn of the
    // event loop every 7.5 s, and as many pongs just after (the bench's p99 stalls). A silent
    // peer is closed two intervals after its last frame, never before it was pinged and had half
    // an interval to answer.
    const sweep = Effect.sync(() => {
      const now = Date.now()
      for (const conn of connections) {
        if (conn.userId === undefined) continue
        const unanswered = conn.lastPing > conn.lastSeen && now - conn.lastPing >= heartbeatMs / 2
        if (now - conn.lastSeen >= heartbeatMs * 2 && unanswered) {
          sendError(conn, "timeout", "no frame from the client for two heartbeat intervals")
          sessionFailed(conn)
          close(conn, Socket.CloseCodes.timeout, "heartbeat timeout")
        } else if (now - conn.lastPing >= heartbeatMs) {
          conn.lastPing = now
          send(conn, pingText)
        }
      }
    })
    yield* Effect.forkScoped(Effect.repeat(sweep, Schedule.spaced(Duration.millis(heartbeatMs / SweepsPerHeartbeat))))

    const closeAll = Effect.sync(() => {
      for (const conn of [...connections]) close(conn, Socket.CloseCodes.goingAway, "server shutting down")
    })
    yield* Effect.addFinalizer(() => closeAll)

    revocations.onRevoked(({ revokedAt, userId }) => {
      const sockets = byUser.get(userId)
      if (sockets === undefined) return
      for (const conn of [...sockets]) {
        if (conn.issuedAt * 1000 > revokedAt) continue
        socketAuthFailures.updateUnsafe(1, context)
        sendError(conn, "invalid_token", "the token was revoked; ask the app for a new one")
        close(conn, Socket.CloseCodes.invalidToken, "token revoked")
      }
    })

    // Refused before the upgrade, so a refused client costs no socket state at all.
    const refuseUpgrade = (socket: Duplex, status: 403 | 429, message: string, retryAfterMs?: number) => {
      const body = JSON.stringify({ error: status === 403 ? "Forbidden" : "RateLimited", message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
      socket.end(
        `HTTP/1.1 ${status} ${status === 403 ? "Forbidden" : "Too Many Requests"}\r\n` +
          (retryAfterMs === undefined ? "" : `Retry-After: ${Math.ceil(retryAfterMs / 1000)}\r\n`) +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
      )
    }

    const handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const origin = request.headers.origin
      if (origin !== undefined && allowedOrigins.size > 0 && !allowedOrigins.has(origin)) {
        rateLimitedUnsafe("origin", context)
        return refuseUpgrade(socket, 403, `origin ${origin} is not allowed (HERALD_ALLOWED_ORIGINS)`)
      }
      const ip = clientIp(request, config.trustProxy)
      if (limits.socketsPerIp > 0 && (perIp.get(ip) ?? 0) >= limits.socketsPerIp) {
        rateLimitedUnsafe("sockets_per_ip", context)
        return refuseUpgrade(socket, 429, `at most ${limits.socketsPerIp} sockets per address`, TooManySocketsRetryMs)
      }
      if (limits.connectsPerIp === 0) return wss.handleUpgrade(request, socket, head, (ws) => accept(ws, ip))
      run(rateLimits.socketUpgrade(ip).pipe(Effect.map((retryAfterMs) => {
        if (retryAfterMs !== undefined) return refuseUpgrade(socket, 429, `at most ${limits.connectsPerIp} new sockets per second per address`, retryAfterMs)
        // The client may have given up while the limiter answered.
        if (socket.destroyed) return
        wss.handleUpgrade(request, socket, head, (ws) => accept(ws, ip))
      })))
    }

    return SocketGateway.of({
      handleUpgrade,
      closeAll,
      connectionCount: () => connections.size
    })
  })
}
