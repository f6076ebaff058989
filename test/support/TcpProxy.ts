/**
 * A TCP proxy in front of a real server (PostgreSQL, Redis), so a test can
 * make that server unreachable or slow and bring it back without touching
 * the machine's instance, which other tests share.
 */
import { Effect, type Scope } from "effect"
import { createConnection, createServer, type Server, type Socket } from "node:net"
import { linkPair } from "./SocketPair.ts"
import { freePort } from "./TestServer.ts"

export interface TcpProxy {
  readonly port: number
  /** Resets every open connection and refuses new ones, as a stopped server would. */
  readonly cut: Effect.Effect<void>
  /** Accepts and forwards connections again. */
  readonly restore: Effect.Effect<void>
  /** Holds every chunk this long before forwarding it, both ways (0: none), like a slow network. */
  readonly setLatency: (millis: number) => Effect.Effect<void>
}

export const tcpProxy = (target: { readonly host: string; readonly port: number }): Effect.Effect<TcpProxy, never, Scope.Scope> =>
  Effect.gen(function*() {
    const port = yield* freePort
    const open = new Set<Socket>()
    let server: Server | undefined
    let latency = 0
    // Equal delays keep the order: timers of the same duration fire in the order they were set.
    const forward = (from: Socket, to: Socket) =>
      from.on("data", (chunk: Buffer) => {
        if (latency === 0) to.write(chunk)
        else setTimeout(() => to.writable && to.write(chunk), latency)
      })

    const listen = Effect.callback<void>((resume) => {
      const next = createServer((client) => {
        const upstream = createConnection(target)
        linkPair(client, upstream, open)
        forward(client, upstream)
        forward(upstream, client)
      })
      next.listen(port, "127.0.0.1", () => {
        server = next
        resume(Effect.void)
      })
    })

    const cut = Effect.callback<void>((resume) => {
      for (const socket of open) socket.resetAndDestroy()
      open.clear()
      const current = server
      server = undefined
      if (current === undefined) return resume(Effect.void)
      current.close(() => resume(Effect.void))
    })

    yield* listen
    yield* Effect.addFinalizer(() => cut)
    return {
      port,
      cut,
      restore: Effect.suspend(() => server === undefined ? listen : Effect.void),
      setLatency: (millis) => Effect.sync(() => (latency = millis))
    }
  })
