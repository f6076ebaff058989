import type { Socket } from "node:net"

/**
 * Tracks a proxied connection's two ends in `open` and destroys both when
 * either errors or closes, so a proxy never leaves half a connection up.
 */
export const linkPair = (client: Socket, upstream: Socket, open: Set<Socket>): void => {
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
}
