/**
 * Herald's one HTTP server: RPC and probes through Effect's HTTP handler,
 * and WebSocket upgrades at `/ws` handed to the socket gateway. Shutdown
 * closes sockets first (1001) so clients start reconnecting at once.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ConfigurationError } from "@herald/domain"
import { Context, Effect, Layer } from "effect"
import { createServer } from "node:http"
import { HeraldConfig } from "../config/HeraldConfig.ts"
import { makeHttpApp } from "./HttpApp.ts"
import { withoutHeraldServices } from "./LeanContext.ts"
import { SocketGateway } from "./SocketGateway.ts"

export class HttpServer extends Context.Service<HttpServer, {
  /** The bound port (useful when `HERALD_PORT=0`). */
  readonly port: number
  readonly url: string
}>()("@herald/server/gateway/HttpServer") {
  static readonly layer = Layer.effect(HttpServer, Effect.gen(function*() {
    const config = yield* HeraldConfig
    const gateway = yield* SocketGateway
    const app = yield* makeHttpApp
    const scope = yield* Effect.scope
    // Requests run in a context without the server's own services: effect copies a fiber's
    // context as it grows (LeanContext).
    const handler = yield* withoutHeraldServices(NodeHttpServer.makeHandler(app, { scope }))
    const server = createServer({ keepAliveTimeout: 65_000 })
    server.on("request", handler)
    server.on("upgrade", (request, socket, head) => {
      if ((request.url ?? "").split("?", 1)[0] === "/ws") {
        gateway.handleUpgrade(request, socket, head)
      } else {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
      }
    })
    const port = yield* Effect.acquireRelease(
      Effect.callback<number, ConfigurationError>((resume) => {
        server.once("error", (cause) =>
          resume(Effect.fail(
            new ConfigurationError({ message: `cannot listen on ${config.host}:${config.port}: ${cause.message}` })
          )))
        server.listen(config.port, config.host, () => {
          const address = server.address()
          resume(Effect.succeed(address !== null && typeof address === "object" ? address.port : config.port))
        })
      }),
      () =>
        gateway.closeAll.pipe(
          Effect.andThen(Effect.callback<void>((resume) => {
            server.close(() => resume(Effect.void))
            server.closeAllConnections()
          }))
        )
    )
    return HttpServer.of({ port, url: `http://${config.host}:${port}` })
  }))
}
