/**
 * A redis-server of the benchmark's own on a free port, keeping nothing on
 * disk: no other user of the machine's Redis adds to (or is hurt by) the
 * benchmark's traffic, and nothing survives the run. The tests' private
 * Redis, driven from the benchmark's promise-based code.
 */
import { Effect, Exit, Scope } from "effect"
import { privateRedis } from "../../support/PrivateRedis.ts"

export interface RedisProcess {
  readonly url: string
  stop(): Promise<void>
}

export const startRedis = async (): Promise<RedisProcess> => {
  const scope = Effect.runSync(Scope.make())
  const redis = await Effect.runPromise(privateRedis.pipe(Scope.provide(scope))).catch(async (error: unknown) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    return Promise.reject(error)
  })
  return { url: redis.url, stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
