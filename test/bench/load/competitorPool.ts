/**
 * The competitors' sockets, one per user, opened `concurrency` at a time:
 * bare `ws` (the user in the URL, ready at the server's `{"type":"ready"}`)
 * or `socket.io-client` (websocket transport only, the user in `auth`, ready
 * at the `ready` event). Every notification is handed on with its arrival
 * time in the shape Herald's socket pool uses, so one set of receipts
 * (`../support/receipts.ts`) counts both. Neither reconnects: a socket that
 * closes during the run is counted, and what it misses is lost.
 */
import { io, type Socket } from "socket.io-client"
import WebSocket from "ws"
import type { ConnectFailure, FrameInfo, ReceivedNotification } from "../support/socketPool.ts"

export interface CompetitorPoolOptions {
  readonly protocol: "ws" | "socketio"
  readonly urls: ReadonlyArray<string>
  readonly users: ReadonlyArray<string>
  readonly concurrency: number
  readonly timeoutMs: number
  readonly onNotification: (socketUser: string, notification: ReceivedNotification, at: number, info: FrameInfo) => void
}

export interface CompetitorPool {
  readonly connectMs: ReadonlyArray<number>
  readonly failures: ReadonlyArray<ConnectFailure>
  counters(): { readonly open: number; readonly closedUnexpectedly: number; readonly errorFrames: number }
  closeAll(): Promise<void>
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/** The `{ userId, id }` of a published message, as Herald's pool reports a notification. */
const asNotification = (u: unknown): ReceivedNotification | undefined => {
  if (!isRecord(u)) return undefined
  const { userId, id } = u
  return typeof userId === "string" && typeof id === "string" ? { id, userId, cursor: 0, idempotencyKey: id } : undefined
}

interface Live {
  close(): Promise<void>
}

export const openCompetitorPool = async (options: CompetitorPoolOptions): Promise<CompetitorPool> => {
  const connectMs: Array<number> = []
  const failures: Array<ConnectFailure> = []
  const live = new Set<Live>()
  const counts = { closedUnexpectedly: 0, malformed: 0 }
  let stopping = false

  const deliver = (user: string, socket: number, payload: unknown, at: number) => {
    const notification = asNotification(payload)
    if (notification === undefined) return void counts.malformed++
    options.onNotification(user, notification, at, { socket, fresh: true, replay: false })
  }

  const dialWs = (url: string, user: string, index: number) =>
    new Promise<Live>((resolve, reject) => {
      const ws = new WebSocket(`${url}?user=${encodeURIComponent(user)}`, { perMessageDeflate: false })
      let ready = false
      const handle: Live = {
        close: () =>
          new Promise((done) => {
            if (ws.readyState === WebSocket.CLOSED) return done()
            ws.once("close", () => done())
            ws.close(1000)
          })
      }
      const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no ready within ${options.timeoutMs} ms`))), options.timeoutMs)
      ws.on("message", (data) => {
        const at = performance.now()
        let frame: unknown
        try {
          frame = JSON.parse(data.toString())
        } catch {
          return void counts.malformed++
        }
        if (isRecord(frame) && frame["type"] === "ready") {
          ready = true
          clearTimeout(timer)
          return resolve(handle)
        }
        deliver(user, index, frame, at)
      })
      ws.on("error", (error) => {
        if (!ready) (clearTimeout(timer), reject(error))
      })
      ws.on("close", (code) => {
        live.delete(handle)
        if (!ready) (clearTimeout(timer), reject(new Error(`closed with ${code} before ready`)))
        else if (!stopping) counts.closedUnexpectedly++
      })
    })

  const dialSocketIo = (url: string, user: string, index: number) =>
    new Promise<Live>((resolve, reject) => {
      const socket: Socket = io(url, { transports: ["websocket"], auth: { user }, reconnection: false, forceNew: true, timeout: options.timeoutMs })
      let ready = false
      const handle: Live = {
        close: () =>
          new Promise((done) => {
            if (socket.disconnected) return done()
            socket.once("disconnect", () => done())
            socket.disconnect()
          })
      }
      const timer = setTimeout(() => (socket.disconnect(), reject(new Error(`no ready within ${options.timeoutMs} ms`))), options.timeoutMs)
      socket.once("ready", () => {
        ready = true
        clearTimeout(timer)
        resolve(handle)
      })
      // Socket.IO has parsed the frame by now; the parse of a few hundred bytes is in the latency.
      socket.on("notification", (payload: unknown) => deliver(user, index, payload, performance.now()))
      socket.once("connect_error", (error) => {
        if (!ready) (clearTimeout(timer), reject(error))
      })
      socket.on("disconnect", () => {
        live.delete(handle)
        if (!ready) (clearTimeout(timer), reject(new Error("disconnected before ready")))
        else if (!stopping) counts.closedUnexpectedly++
      })
    })

  let next = 0
  const worker = async () => {
    while (next < options.users.length) {
      const index = next++
      const user = options.users[index]
      const url = options.urls[index % options.urls.length]
      if (user === undefined || url === undefined) continue
      const dialled = performance.now()
      try {
        const handle = await (options.protocol === "ws" ? dialWs(url, user, index) : dialSocketIo(url, user, index))
        live.add(handle)
        connectMs.push(performance.now() - dialled)
      } catch (error: unknown) {
        const code = isRecord(error) && typeof error["code"] === "string" ? error["code"] : undefined
        failures.push({ user, message: error instanceof Error ? error.message : String(error), code })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker))

  return {
    connectMs,
    failures,
    counters: () => ({ open: live.size, closedUnexpectedly: counts.closedUnexpectedly, errorFrames: counts.malformed }),
    closeAll: async () => {
      stopping = true
      await Promise.all([...live].map((handle) => handle.close()))
    }
  }
}
