/**
 * Builds the clients the commands talk to, from the shared `--url`,
 * `--api-key` and `--admin-key` flags: `HeraldClient` (app key) for the app
 * commands, `HeraldAdminClient` (admin key) for the admin ones.
 *
 * The API key comes from `--api-key`, else `HERALD_API_KEY`, else the
 * `apiKey` field of `${HERALD_DATA_DIR:-.data}/secrets.json` (resolved from the
 * current directory), which the embedded server writes on its first start.
 * That last fallback is what makes `pnpm herald send …` work right after the
 * quick start without any setup. The admin key is found the same way, from
 * `--admin-key`, `HERALD_ADMIN_KEY` and the `adminKey` field.
 */
import { HeraldAdminClient } from "@herald/client/HeraldAdminClient"
import { HeraldClient } from "@herald/client/HeraldClient"
import { Config, Effect, FileSystem, Layer, Option, Path, Redacted, Schema } from "effect"
import { UsageError } from "./CliErrors.ts"
import { herald } from "./Root.ts"

const SecretsFile = Schema.fromJsonString(Schema.Record(Schema.String, Schema.Unknown))

const NonEmptyString = Schema.String.pipe(Schema.check(Schema.isMinLength(1)))

const dataDir = Config.String("HERALD_DATA_DIR").pipe(Config.withDefault(".data"))

/** Where one kind of key may come from, for finding it and for saying where it was looked for. */
interface KeySource {
  /** How the key is named in messages: "API key". */
  readonly name: string
  readonly flag: string
  readonly env: string
  /** Its field in secrets.json. */
  readonly field: string
  readonly span: string
}

/** The key from the flag or environment (`given`), else from the embedded server's secrets file. */
const resolveKey = (source: KeySource) => {
  const missing = (why: string) =>
    new UsageError({ message: `no ${source.name}: pass ${source.flag} or set ${source.env} (${why})` })
  return Effect.fn(source.span)(function*(given: Option.Option<Redacted.Redacted<string>>) {
    if (Option.isSome(given) && Redacted.value(given.value) !== "") return given.value
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* dataDir.pipe(
      Effect.mapError((error) => new UsageError({ message: `HERALD_DATA_DIR: ${error.message}` }))
    )
    const file = path.resolve(dir, "secrets.json")
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((error) =>
        missing(
          error.reason._tag === "NotFound"
            ? `${file} does not exist; the embedded server writes it on start`
            : `cannot read ${file}: ${error.message}`
        )
      )
    )
    const key = yield* Schema.decodeEffect(SecretsFile)(text).pipe(
      Effect.flatMap((secrets) => Schema.decodeUnknownEffect(NonEmptyString)(secrets[source.field])),
      Effect.mapError(() => missing(`${file} has no ${source.field} field`))
    )
    return Redacted.make(key)
  })
}

/** The API key from `--api-key` or `HERALD_API_KEY`, else from the embedded server's secrets file. */
export const resolveApiKey = resolveKey({
  name: "API key",
  flag: "--api-key",
  env: "HERALD_API_KEY",
  field: "apiKey",
  span: "Connection.resolveApiKey"
})

/** The admin key from `--admin-key` or `HERALD_ADMIN_KEY`, else from the embedded server's secrets file. */
export const resolveAdminKey = resolveKey({
  name: "admin key",
  flag: "--admin-key",
  env: "HERALD_ADMIN_KEY",
  field: "adminKey",
  span: "Connection.resolveAdminKey"
})

/** The client for the server and key the shared flags name; provide it to a subcommand with `Command.provide`. */
export const HeraldClientLive = Layer.unwrap(Effect.gen(function*() {
  const { url, apiKey } = yield* herald
  const key = yield* resolveApiKey(apiKey)
  return HeraldClient.layer({ url, apiKey: key })
}))

/** The admin client for the server and admin key the shared flags name; for the admin commands only. */
export const HeraldAdminClientLive = Layer.unwrap(Effect.gen(function*() {
  const { url, adminKey } = yield* herald
  const key = yield* resolveAdminKey(adminKey)
  return HeraldAdminClient.layer({ url, adminKey: key })
}))
