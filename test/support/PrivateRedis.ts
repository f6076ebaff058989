/**
 * A redis-server of the test's own on a free port, keeping nothing on disk,
 * so a test can stop and restart it without disturbing the shared one.
 */
import { Effect, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createConnection } from "node:net"
import { freePort } from "./TestServer.ts"

const accepting = (port: number) =>
  Effect.promise(() =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: "127.0.0.1" })
      socket.once("connect", () => (socket.destroy(), resolve(true)))
      socket.once("error", () => resolve(false))
    })
  )

export interface PrivateRedis {
  readonly port: number
  readonly url: string
  /** Stops the server (SIGTERM) and waits for it to exit. */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port (after `stop`); stopped with the scope. */
  readonly start: Effect.Effect<void, never, Scope.Scope>
}

/** A redis-server on `port` that keeps nothing; stopped with the scope (or by `stop`). */
export const startRedisOn = (port: number) =>
  Effect.gen(function*() {
    const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore"
    })
    const stop = Effect.callback<void>((resume) => {
      if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
      child.once("exit", () => resume(Effect.void))
      child.kill("SIGTERM")
    })
    yield* Effect.addFinalizer(() => stop)
    for (let i = 0; i < 100 && !(yield* accepting(port)); i++) yield* Effect.sleep("50 millis")
    return { stop }
  })

/** A private Redis on a free port. `stop` and `start` act on the current instance. */
export const privateRedis: Effect.Effect<PrivateRedis, never, Scope.Scope> = Effect.gen(function*() {
  const port = yield* freePort
  let current = yield* startRedisOn(port)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: Effect.suspend(() => current.stop),
    start: Effect.map(startRedisOn(port), (started) => {
      current = started
    })
  }
})
