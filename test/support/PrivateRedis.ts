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
  readonly start: Effect.Effect<void, Error, Scope.Scope>
}

/**
 * A redis-server on `port` that keeps nothing; stopped with the scope (or by `stop`). Fails
 * when redis-server cannot be started or never accepts connections.
 */
export const startRedisOn = (port: number): Effect.Effect<{ readonly stop: Effect.Effect<void> }, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore"
    })
    let spawnError: Error | undefined
    child.once("error", (error) => (spawnError = error))
    const stop = Effect.callback<void>((resume) => {
      // A failed spawn emits "error" and possibly no "exit".
      if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
      child.once("exit", () => resume(Effect.void))
      child.kill("SIGTERM")
    })
    yield* Effect.addFinalizer(() => stop)
    for (let i = 0; i < 100; i++) {
      if (yield* accepting(port)) return { stop }
      if (spawnError !== undefined) {
        return yield* Effect.fail(new Error(`cannot start redis-server (is it installed?): ${spawnError.message}`))
      }
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.fail(new Error(`redis-server did not accept connections on port ${port}`))
  })

/** A private Redis on a free port. `stop` and `start` act on the current instance. */
export const privateRedis: Effect.Effect<PrivateRedis, Error, Scope.Scope> = Effect.gen(function*() {
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
