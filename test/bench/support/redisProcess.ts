/**
 * A redis-server of the benchmark's own on a free port, keeping nothing on
 * disk: no other user of the machine's Redis adds to (or is hurt by) the
 * benchmark's traffic, and nothing survives the run.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createConnection } from "node:net"
import { Effect } from "effect"
import { freePort } from "../../support/TestServer.ts"

export interface RedisProcess {
  readonly url: string
  readonly pid: number
  stop(): Promise<void>
}

const accepting = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

export const startRedis = async (): Promise<RedisProcess> => {
  const port = await Effect.runPromise(freePort)
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" }
  )
  const spawnError = new Promise<Error>((done) => child.once("error", done))
  // A failed spawn emits "error" and possibly no "exit".
  const exited = new Promise<void>((done) => {
    child.once("exit", () => done())
    void spawnError.then(() => done())
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    await exited
  }
  for (let i = 0; i < 100; i++) {
    const outcome = await Promise.race([accepting(port), spawnError])
    if (outcome instanceof Error) throw new Error(`cannot start redis-server (is it installed?): ${outcome.message}`)
    if (outcome && child.pid !== undefined) return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop }
    await new Promise<void>((done) => setTimeout(done, 50))
  }
  await stop()
  throw new Error(`redis-server did not accept connections on port ${port}`)
}
