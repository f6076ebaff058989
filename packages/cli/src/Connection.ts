/**
 * Builds the `HeraldClient` every command talks to, from the shared `--url`
 * and `--api-key` flags.
 *
 * The API key comes from `--api-key`, else `HERALD_API_KEY`, else the
 * `apiKey` field of `${HERALD_DATA_DIR:-.data}/secrets.json` (resolved from the
 * current directory), which the embedded server writes on its first start.
 * That last fallback is what makes `pnpm herald send …` work right after the
 * quick start without any setup.
 */
import { HeraldClient } from "@herald/client/HeraldClient"
import { Config, Effect, FileSystem, Layer, Option, Path, Redacted, Schema } from "effect"
import { UsageError } from "./CliErrors.ts"
import { herald } from "./Root.ts"

const SecretsFile = Schema.fromJsonString(Schema.Struct({ apiKey: Schema.String.pipe(Schema.check(Schema.isMinLength(1))) }))

const dataDir = Config.String("HERALD_DATA_DIR").pipe(Config.withDefault(".data"))

/** The API key from the flag or environment, else from the embedded server's secrets file. */
export const resolveApiKey = Effect.fn("Connection.resolveApiKey")(function*(
  given: Option.Option<Redacted.Redacted<string>>
) {
  if (Option.isSome(given) && Redacted.value(given.value) !== "") return given.value
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* dataDir.pipe(
    Effect.mapError((error) => new UsageError({ message: `HERALD_DATA_DIR: ${error.message}` }))
  )
  const file = path.resolve(dir, "secrets.json")
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((error) =>
      new UsageError({
        message: error.reason._tag === "NotFound"
          ? `no API key: pass --api-key or set HERALD_API_KEY (${file} does not exist; the embedded server writes it on start)`
          : `no API key: pass --api-key or set HERALD_API_KEY (cannot read ${file}: ${error.message})`
      })
    )
  )
  const secrets = yield* Schema.decodeEffect(SecretsFile)(text).pipe(
    Effect.mapError(() =>
      new UsageError({ message: `no API key: pass --api-key or set HERALD_API_KEY (${file} has no apiKey field)` })
    )
  )
  return Redacted.make(secrets.apiKey)
})

/** The client for the server and key the shared flags name; provide it to a subcommand with `Command.provide`. */
export const HeraldClientLive = Layer.unwrap(Effect.gen(function*() {
  const { url, apiKey } = yield* herald
  const key = yield* resolveApiKey(apiKey)
  return HeraldClient.layer({ url, apiKey: key })
}))
