/**
 * Many raw `ws` sockets, one per user, authenticated with the `auth` frame
 * (no `resume`) and ready once each has seen `synced`. Every notification
 * frame is handed to `onNotification` with the time it arrived, taken
 * before the frame is parsed, on the same monotonic clock as the publisher.
 *
 * Application-level `ping` frames are answered with `pong`, so a run longer
 * than two heartbeats does not lose its sockets to the server's timeout.
 *
 * With `reconnect`, a socket whose connection ends (its node died) dials
 * again the way `NotificationSocket` does: jittered exponential backoff,
 * another node's URL, `resume` set to the last cursor it received. Each
 * frame is marked `fresh` by the real client's rule (a cursor above the last
 * one received), so a benchmark can tell frames an app would see from frames
 * the client would drop.
 */
import WebSocket from "ws"

/** The fields of a notification frame the benchmark checks. */
export interface ReceivedNotification {
  readonly id: string
  readonly userId: string
  readonly cursor: number
  readonly idempotencyKey: string | null
}

/** How a frame reached the socket. */
export interface FrameInfo {
  /** The socket's index in `users`. */
  readonly socket: number
  /** False when its cursor is not above the last one this socket received: a client drops it. */
  readonly fresh: boolean
  /** Sent as part of a resume's catch-up (before `synced`) rather than live. */
  readonly replay: boolean
}

export interface ReconnectOptions {
  /** Every node's socket URL; a reconnect takes the next one in turn, never the one just lost. */
  readonly urls: ReadonlyArray<string>
  /** Backoff as the real client: random between half and all of `min(maxMs, initialMs·2^attempt)`. */
  readonly initialMs: number
  readonly maxMs: number
  /** Per attempt, from `new WebSocket` to `synced`. */
  readonly timeoutMs: number
}

export interface PoolOptions {
  /** Where socket `i` dials first: one URL, or `wsUrl[i % length]` to spread sockets over nodes. */
  readonly wsUrl: string | ReadonlyArray<string>
  /** One socket per entry; `tokens[i]` authenticates `users[i]`. */
  readonly users: ReadonlyArray<string>
  readonly tokens: ReadonlyArray<string>
  /** Sockets being opened at the same time. */
  readonly concurrency: number
  /** Per socket, from `new WebSocket` to `synced`. */
  readonly timeoutMs: number
  readonly onNotification: (socketUser: string, notification: ReceivedNotification, at: number, info: FrameInfo) => void
  /** When set, sockets closed by anything but `closeAll` reconnect and resume. */
  readonly reconnect?: ReconnectOptions
}

export interface ConnectFailure {
  readonly user: string
  readonly message: string
  /** Node's error code (`EMFILE`, `ECONNRESET`, …) or `close:<code>`, when known. */
  readonly code: string | undefined
}

/** One socket's time without a connection: from the close to `synced` on another node. */
export interface Outage {
  readonly socket: number
  readonly lostUrl: string
  readonly closedAt: number
  readonly closeCode: number
  /** When the lost connection had reached `synced`, and how many pings it had answered. */
  readonly connectedAt: number
  readonly pingsAnswered: number
  attempts: number
  /** `performance.now()` at the `synced` that ended it; undefined while it lasts. */
  resyncedAt: number | undefined
  resyncedUrl: string | undefined
  /** Notification frames the resume replayed before `synced`. */
  replayedFrames: number
}

export interface SocketPool {
  /** Per connected socket: milliseconds from `new WebSocket` to `synced`. */
  readonly connectMs: ReadonlyArray<number>
  readonly failures: ReadonlyArray<ConnectFailure>
  /** Wall time to connect them all. */
  readonly totalMs: number
  /** Counters that keep changing while the sockets are open. */
  counters(): {
    readonly open: number
    readonly closedUnexpectedly: number
    readonly closeCodes: Readonly<Record<string, number>>
    readonly errorFrames: number
    readonly errorCodes: Readonly<Record<string, number>>
    readonly pingsAnswered: number
    readonly malformedFrames: number
    readonly reconnectAttempts: number
    readonly reconnectFailureCodes: Readonly<Record<string, number>>
  }
  /** Every outage so far, in the order the closes happened. */
  outages(): ReadonlyArray<Outage>
  /** The last cursor socket `index` received (-1 before its first `synced`). */
  lastCursor(index: number): number
  closeAll(): Promise<void>
}

interface SocketState {
  readonly index: number
  readonly user: string
  readonly token: string
  /** The last cursor received (notification or `synced`); -1 before the first `synced`. */
  lastCursor: number
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const parseNotification = (u: unknown): ReceivedNotification | undefined => {
  if (!isRecord(u)) return undefined
  const { id, userId, cursor, idempotencyKey } = u
  if (typeof id !== "string" || typeof userId !== "string" || typeof cursor !== "number") return undefined
  return { id, userId, cursor, idempotencyKey: typeof idempotencyKey === "string" ? idempotencyKey : null }
}

const errorCode = (error: Error): string | undefined =>
  "code" in error && typeof error.code === "string" ? error.code : undefined

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

const toFailure = (user: string, failure: unknown): ConnectFailure =>
  isRecord(failure) && typeof failure["message"] === "string"
    ? { user, message: failure["message"], code: typeof failure["code"] === "string" ? failure["code"] : undefined }
    : { user, message: String(failure), code: undefined }

export const openPool = async (options: PoolOptions): Promise<SocketPool> => {
  const firstUrls = typeof options.wsUrl === "string" ? [options.wsUrl] : options.wsUrl
  const live = new Set<WebSocket>()
  const closing = new WeakSet<WebSocket>()
  const connectMs: Array<number> = []
  const failures: Array<ConnectFailure> = []
  const closeCodes: Record<string, number> = {}
  const errorCodes: Record<string, number> = {}
  const reconnectFailureCodes: Record<string, number> = {}
  const outages: Array<Outage> = []
  let closedUnexpectedly = 0
  let errorFrames = 0
  let pingsAnswered = 0
  let malformedFrames = 0
  let reconnectAttempts = 0
  let nextReconnectUrl = 0
  let stopped = false

  // Resolves with the arrival time of `synced`; rejects with a ConnectFailure before it.
  const dial = (s: SocketState, url: string, timeoutMs: number, outage: Outage | undefined) =>
    new Promise<number>((resolve, reject) => {
      let synced = false
      let syncedAt = 0
      let pings = 0
      const ws = new WebSocket(url, { perMessageDeflate: false })
      const timer = setTimeout(() => {
        ws.terminate()
        reject({ user: s.user, message: `no synced frame within ${timeoutMs} ms`, code: "timeout" } satisfies ConnectFailure)
      }, timeoutMs)

      ws.on("open", () => {
        if (stopped) return ws.terminate()
        ws.send(JSON.stringify(s.lastCursor < 0 ? { type: "auth", token: s.token } : { type: "auth", token: s.token, resume: s.lastCursor }))
      })
      ws.on("message", (data, isBinary) => {
        const at = performance.now()
        let frame: unknown
        try {
          frame = JSON.parse(isBinary ? "" : data.toString())
        } catch {
          malformedFrames++
          return
        }
        if (!isRecord(frame)) {
          malformedFrames++
          return
        }
        switch (frame["type"]) {
          case "notification": {
            const notification = parseNotification(frame["notification"])
            if (notification === undefined) return void malformedFrames++
            const fresh = notification.cursor > s.lastCursor
            if (fresh) s.lastCursor = notification.cursor
            if (!synced && outage !== undefined) outage.replayedFrames++
            options.onNotification(s.user, notification, at, { socket: s.index, fresh, replay: !synced })
            return
          }
          case "synced": {
            // As the real client: a later resume starts from here even when nothing arrived.
            const cursor = frame["cursor"]
            if (typeof cursor === "number" && cursor > s.lastCursor) s.lastCursor = cursor
            if (!synced) {
              synced = true
              syncedAt = at
              clearTimeout(timer)
              live.add(ws)
              resolve(at)
              // A reconnect that finished after closeAll must not outlive it.
              if (stopped) {
                closing.add(ws)
                ws.close(1000)
              }
            }
            return
          }
          case "ping": {
            ws.send("{\"type\":\"pong\"}")
            pingsAnswered++
            pings++
            return
          }
          case "error": {
            errorFrames++
            bump(errorCodes, typeof frame["code"] === "string" ? frame["code"] : "unknown")
            return
          }
          default:
            return
        }
      })
      ws.on("error", (error) => {
        if (!synced) {
          clearTimeout(timer)
          reject({ user: s.user, message: error.message, code: errorCode(error) } satisfies ConnectFailure)
        }
      })
      ws.on("close", (code) => {
        live.delete(ws)
        if (!synced) {
          clearTimeout(timer)
          reject({ user: s.user, message: `closed with ${code} before synced`, code: `close:${code}` } satisfies ConnectFailure)
        } else if (!closing.has(ws) && !stopped) {
          closedUnexpectedly++
          bump(closeCodes, String(code))
          if (options.reconnect !== undefined) void recover(s, options.reconnect, { lostUrl: url, closeCode: code, connectedAt: syncedAt, pingsAnswered: pings })
        }
      })
    })

  const pickUrl = (urls: ReadonlyArray<string>, lost: string): string => {
    for (let tried = 0; tried < urls.length; tried++) {
      const url = urls[nextReconnectUrl++ % urls.length]
      if (url !== undefined && (url !== lost || urls.length === 1)) return url
    }
    return lost
  }

  const recover = async (
    s: SocketState,
    reconnect: ReconnectOptions,
    lost: Pick<Outage, "lostUrl" | "closeCode" | "connectedAt" | "pingsAnswered">
  ) => {
    const lostUrl = lost.lostUrl
    const outage: Outage = {
      ...lost,
      socket: s.index,
      closedAt: performance.now(),
      attempts: 0,
      resyncedAt: undefined,
      resyncedUrl: undefined,
      replayedFrames: 0
    }
    outages.push(outage)
    while (!stopped) {
      const cap = Math.min(reconnect.maxMs, reconnect.initialMs * 2 ** outage.attempts)
      await sleep(cap / 2 + Math.random() * cap / 2)
      if (stopped) return
      outage.attempts++
      reconnectAttempts++
      const url = pickUrl(reconnect.urls, lostUrl)
      try {
        outage.resyncedAt = await dial(s, url, reconnect.timeoutMs, outage)
        outage.resyncedUrl = url
        return
      } catch (failure: unknown) {
        bump(reconnectFailureCodes, toFailure(s.user, failure).code ?? "unknown")
      }
    }
  }

  const states: Array<SocketState> = options.users.map((user, index) => ({
    index,
    user,
    token: options.tokens[index] ?? "",
    lastCursor: -1
  }))

  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < states.length) {
      const s = states[next++]
      const url = firstUrls[(s?.index ?? 0) % firstUrls.length]
      if (s === undefined || url === undefined) continue
      const dialled = performance.now()
      try {
        connectMs.push(await dial(s, url, options.timeoutMs, undefined) - dialled)
      } catch (failure: unknown) {
        failures.push(toFailure(s.user, failure))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker))
  const totalMs = performance.now() - started

  return {
    connectMs,
    failures,
    totalMs,
    counters: () => ({
      open: live.size,
      closedUnexpectedly,
      closeCodes,
      errorFrames,
      errorCodes,
      pingsAnswered,
      malformedFrames,
      reconnectAttempts,
      reconnectFailureCodes
    }),
    outages: () => outages,
    lastCursor: (index) => states[index]?.lastCursor ?? -1,
    closeAll: async () => {
      stopped = true
      const all = [...live]
      await Promise.all(all.map((ws) =>
        new Promise<void>((done) => {
          closing.add(ws)
          if (ws.readyState === WebSocket.CLOSED) return done()
          const timer = setTimeout(() => {
            ws.terminate()
            done()
          }, 2_000)
          ws.once("close", () => {
            clearTimeout(timer)
            done()
          })
          ws.close(1000)
        })
      ))
    }
  }
}
