/**
 * Socket.IO with `@socket.io/redis-adapter`: what a team would pick to run
 * notifications on several nodes. A socket names its user in the handshake
 * (`auth: { user }`, no token: Herald's token check is Herald's own cost),
 * joins the room named by that id and is sent a `ready` event;
 * `POST /publish` emits each message as a `notification` event to its
 * user's room, which the adapter publishes on Redis so that every node writes it to the
 * room's sockets it holds. Socket.IO's defaults otherwise (its own
 * heartbeat, no per-message deflate).
 *
 *   PORT=8091 REDIS_URL=redis://127.0.0.1:6390 node test/bench/competitors/socketio-server.ts
 */
import { createAdapter } from "@socket.io/redis-adapter"
import { createServer } from "node:http"
import { createClient } from "redis"
import { Server } from "socket.io"
import { exitOnSignal, publishRoute } from "./publishRoute.ts"

const redisUrl = process.env["REDIS_URL"]
if (redisUrl === undefined) {
  process.stderr.write("socketio-server: REDIS_URL is required (the adapter's pub/sub)\n")
  process.exit(2)
}
const pub = createClient({ url: redisUrl })
const sub = pub.duplicate()
await Promise.all([pub.connect(), sub.connect()])

const state = { ready: false }
const http = createServer(publishRoute(() => state.ready, (message) => {
  io.to(message.userId).emit("notification", message)
  // The adapter does not say how many sockets it reached (they may be on other nodes).
  return -1
}))
const io = new Server(http, { serveClient: false, adapter: createAdapter(pub, sub) })

io.on("connection", (socket) => {
  const user: unknown = socket.handshake.auth["user"]
  if (typeof user !== "string" || user === "") return void socket.disconnect(true)
  void socket.join(user)
  socket.emit("ready")
})

http.listen(Number(process.env["PORT"] ?? "8091"), "127.0.0.1", () => {
  state.ready = true
})
exitOnSignal(async () => {
  await io.close()
  await Promise.allSettled([pub.quit(), sub.quit()])
})
