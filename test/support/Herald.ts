/**
 * The test environment most integration tests share: a fresh database, a
 * real server on it and a typed client with the app key.
 */
import { HeraldClient } from "@herald/client"
import { Context, Effect, Layer } from "effect"
import { testDatabase } from "./TestDatabase.ts"
import { apiKey, type RunningServer, testServer, type TestServerOptions } from "./TestServer.ts"

export class Herald extends Context.Service<Herald, {
  readonly server: RunningServer
  readonly databaseUrl: string
  readonly client: HeraldClient["Service"]
  /** A client token for `userId`, issued through the RPC API. */
  token(userId: string): Effect.Effect<string>
}>()("@herald/test/Herald") {
  static readonly layer = (options: Omit<TestServerOptions, "databaseUrl"> = {}) =>
    Layer.effect(Herald, Effect.gen(function*() {
      const database = yield* testDatabase
      const server = yield* testServer({ databaseUrl: database.url, ...options })
      const client = yield* Layer.build(HeraldClient.layer({ url: server.url, apiKey })).pipe(
        Effect.map(Context.get(HeraldClient))
      )
      return Herald.of({
        server,
        databaseUrl: database.url,
        client,
        token: (userId) => client.issueClientToken(userId).pipe(Effect.map(({ token }) => token), Effect.orDie)
      })
    }))
}
