/**
 * The floor of the comparison: bare `ws`, nothing but socket writes. A
 * socket names its user in the URL (`/ws?user=U`, no auth: Herald's token
 * check is Herald's own cost); the server keeps a map from user to sockets,
 * sends `{"type":"ready"}` once a socket is in it, and `POST /publish` writes
 * each message's JSON text (a lone message's is the request body,
 * unchanged) to every socket of its user. No storage, no
 * acks, no resume, no heartbeat: what a notification costs when it costs
 * nothing else.
 *
 *   PORT=8090 node test/bench/competitors/ws-server.ts
 */
import { createServer } from "node:http"
import { type WebSocket, WebSocketServer } from "ws"
import { exitOnSignal, publishRoute } from "./publishRoute.ts"

const sockets = new Map<string, Set<WebSocket>>()
const state = { listening: false }

const http = createServer(publishRoute(() => state.listening, (message, text) => {
  const mine = sockets.get(message.userId)
  if (mine === undefined) return 0
  const frame = text()
  for (const socket of mine) socket.send(frame)
  return mine.size
}))

const wss = new WebSocketServer({ server: http, path: "/ws", perMessageDeflate: false })
wss.on("connection", (socket, request) => {
  const user = new URL(request.url ?? "/", "http://localhost").searchParams.get("user")
  if (user === null || user === "") return socket.close(4400, "user missing")
  const mine = sockets.get(user) ?? new Set<WebSocket>()
  sockets.set(user, mine)
  mine.add(socket)
  socket.on("close", () => {
    mine.delete(socket)
    if (mine.size === 0) sockets.delete(user)
  })
  socket.on("error", () => socket.terminate())
  socket.send("{\"type\":\"ready\"}")
})

http.listen(Number(process.env["PORT"] ?? "8090"), "127.0.0.1", () => {
  state.listening = true
})
exitOnSignal(() =>
  new Promise((done) => {
    for (const client of wss.clients) client.terminate()
    wss.close(() => http.close(() => done()))
  })
)
