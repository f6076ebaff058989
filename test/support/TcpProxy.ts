/**
 * A TCP proxy in front of a real server (PostgreSQL here), so a test can make
 * that server unreachable and bring it back without stopping the machine's
 * instance, which other tests share.
 */
import { Effect, type Scope } from "effect"
import { createConnection, createServer, type Server, type Socket } from "node:net"
import { freePort } from "./TestServer.ts"

export interface TcpProxy {
  readonly port: number
  /** Resets every open connection and refuses new ones, as a stopped server would. */
  readonly cut: Effect.Effect<void>
  /** Accepts and forwards connections again. */
  readonly restore: Effect.Effect<void>
}

export const tcpProxy = (target: { readonly host: string; readonly port: number }): Effect.Effect<TcpProxy, never, Scope.Scope> =>
  Effect.gen(function*() {
    const port = yield* freePort
    const open = new Set<Socket>()
    let server: Server | undefined

    const listen = Effect.callback<void>((resume) => {
      const next = createServer((client) => {
        const upstream = createConnection(target)
        open.add(client)
        open.add(upstream)
        const drop = () => {
          client.destroy()
          upstream.destroy()
          open.delete(client)
          open.delete(upstream)
        }
        client.on("error", drop).on("close", drop)
        upstream.on("error", drop).on("close", drop)
        client.pipe(upstream)
        upstream.pipe(client)
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
    return { port, cut, restore: Effect.suspend(() => server === undefined ? listen : Effect.void) }
  })
