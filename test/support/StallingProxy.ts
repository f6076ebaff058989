/**
 * A TCP proxy in front of a provider (the SES emulator, say) that can make
 * it hang the worst way: connections are accepted and their requests read,
 * but nothing is forwarded and nothing is ever answered. A request held this
 * way never reaches the provider, so it can never have been sent; only the
 * client giving up (its timeout) ends it.
 *
 * `release` lets new connections through again while the held ones stay
 * held until their client closes them, like a stuck instance behind a load
 * balancer next to a healthy one: a retry succeeds, the stuck request never
 * answers. (`TcpProxy` delays chunks instead, and would deliver a held
 * request late, which is another fault.)
 */
import { Effect, type Scope } from "effect"
import { createConnection, createServer, type Server, type Socket } from "node:net"
import { linkPair } from "./SocketPair.ts"
import { freePort } from "./TestServer.ts"

export interface StallingProxy {
  readonly port: number
  /** From now on connections are held; open forwarding ones are reset so nothing slips through them. */
  readonly hang: Effect.Effect<void>
  /** New connections are forwarded again; held ones stay held. */
  readonly release: Effect.Effect<void>
  /** Held connections on which the client had sent at least one byte (a request). */
  readonly heldRequests: () => number
  /** Held connections the client has closed (it gave up waiting). */
  readonly abandoned: () => number
  /** For each abandoned connection, how long it was held (ms), in the order they were closed. */
  readonly heldMillis: () => ReadonlyArray<number>
  /** Connections forwarded to the target so far. */
  readonly forwarded: () => number
}

export const stallingProxy = (
  target: { readonly host: string; readonly port: number }
): Effect.Effect<StallingProxy, never, Scope.Scope> =>
  Effect.gen(function*() {
    const port = yield* freePort
    const passing = new Set<Socket>()
    const held = new Set<Socket>()
    let hanging = false
    let heldRequests = 0
    const heldFor: Array<number> = []
    let forwarded = 0

    const onConnection = (client: Socket) => {
      if (hanging) {
        held.add(client)
        const since = Date.now()
        let counted = false
        // Read (so the client's write completes, as with a live server) and drop.
        client.on("data", () => {
          if (!counted) heldRequests++
          counted = true
        })
        client.on("error", () => {})
        client.on("close", () => {
          if (held.delete(client)) heldFor.push(Date.now() - since)
        })
        return
      }
      forwarded++
      const upstream = createConnection(target)
      linkPair(client, upstream, passing)
      client.pipe(upstream)
      upstream.pipe(client)
    }

    const server = yield* Effect.acquireRelease(
      Effect.callback<Server>((resume) => {
        const server = createServer(onConnection)
        server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          for (const socket of [...passing, ...held]) socket.destroy()
          held.clear()
          server.close(() => resume(Effect.void))
        })
    )
    return {
      port: (() => {
        const address = server.address()
        return typeof address === "object" && address !== null ? address.port : port
      })(),
      hang: Effect.sync(() => {
        hanging = true
        for (const socket of passing) socket.resetAndDestroy()
        passing.clear()
      }),
      release: Effect.sync(() => {
        hanging = false
      }),
      heldRequests: () => heldRequests,
      abandoned: () => heldFor.length,
      heldMillis: () => heldFor,
      forwarded: () => forwarded
    }
  })
