/**
 * Many raw `ws` sockets, one per user, authenticated with the `auth` frame
 * (no `resume`) and ready once each has seen `synced`. Every notification
 * frame is handed to `onNotification` with the time it arrived, taken
 * before the frame is parsed, on the same monotonic clock as the publisher.
 *
 * Application-level `ping` frames are answered with `pong`, so a run longer
 * than two heartbeats does not lose its sockets to the server's timeout.
 */
import WebSocket from "ws"

/** The fields of a notification frame the benchmark checks. */
export interface ReceivedNotification {
  readonly id: string
  readonly userId: string
  readonly cursor: number
  readonly idempotencyKey: string | null
}

export interface PoolOptions {
  readonly wsUrl: string
  /** One socket per entry; `tokens[i]` authenticates `users[i]`. */
  readonly users: ReadonlyArray<string>
  readonly tokens: ReadonlyArray<string>
  /** Sockets being opened at the same time. */
  readonly concurrency: number
  /** Per socket, from `new WebSocket` to `synced`. */
  readonly timeoutMs: number
  readonly onNotification: (socketUser: string, notification: ReceivedNotification, at: number) => void
}

export interface ConnectFailure {
  readonly user: string
  readonly message: string
  /** Node's error code (`EMFILE`, `ECONNRESET`, …) or `close:<code>`, when known. */
  readonly code: string | undefined
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
  }
  closeAll(): Promise<void>
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

export const openPool = async (options: PoolOptions): Promise<SocketPool> => {
  const live = new Set<WebSocket>()
  const closing = new WeakSet<WebSocket>()
  const connectMs: Array<number> = []
  const failures: Array<ConnectFailure> = []
  const closeCodes: Record<string, number> = {}
  const errorCodes: Record<string, number> = {}
  let closedUnexpectedly = 0
  let errorFrames = 0
  let pingsAnswered = 0
  let malformedFrames = 0

  const connect = (user: string, token: string) =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now()
      let synced = false
      const ws = new WebSocket(options.wsUrl, { perMessageDeflate: false })
      const timer = setTimeout(() => {
        ws.terminate()
        reject({ user, message: `no synced frame within ${options.timeoutMs} ms`, code: "timeout" } satisfies ConnectFailure)
      }, options.timeoutMs)

      ws.on("open", () => {
        ws.send(JSON.stringify({ type: "auth", token }))
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
            if (notification === undefined) malformedFrames++
            else options.onNotification(user, notification, at)
            return
          }
          case "synced": {
            if (!synced) {
              synced = true
              clearTimeout(timer)
              live.add(ws)
              resolve(at - started)
            }
            return
          }
          case "ping": {
            ws.send("{\"type\":\"pong\"}")
            pingsAnswered++
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
          reject({ user, message: error.message, code: errorCode(error) } satisfies ConnectFailure)
        }
      })
      ws.on("close", (code) => {
        live.delete(ws)
        if (!synced) {
          clearTimeout(timer)
          reject({ user, message: `closed with ${code} before synced`, code: `close:${code}` } satisfies ConnectFailure)
        } else if (!closing.has(ws)) {
          closedUnexpectedly++
          bump(closeCodes, String(code))
        }
      })
    })

  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < options.users.length) {
      const index = next++
      const user = options.users[index]
      const token = options.tokens[index]
      if (user === undefined || token === undefined) continue
      try {
        connectMs.push(await connect(user, token))
      } catch (failure: unknown) {
        failures.push(
          isRecord(failure) && typeof failure["message"] === "string"
            ? { user, message: failure["message"], code: typeof failure["code"] === "string" ? failure["code"] : undefined }
            : { user, message: String(failure), code: undefined }
        )
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
      malformedFrames
    }),
    closeAll: async () => {
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
