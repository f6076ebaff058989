/**
 * The three secrets Herald needs: the app API key, the admin key and the
 * HMAC secret for client tokens. Environment variables win; on the embedded
 * default any that are unset are generated once into `HERALD_DATA_DIR/secrets.json`
 * (mode 0600) and reused on every later start, so a restart keeps keys and
 * tokens valid. With an external database they must be set, because every
 * node of a cluster has to agree on them.
 */
import { ConfigurationError } from "@herald/domain"
import { Context, Effect, FileSystem, Layer, Option, Path, Redacted, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { HeraldConfig } from "./HeraldConfig.ts"

export interface SecretsShape {
  readonly apiKey: Redacted.Redacted<string>
  readonly adminKey: Redacted.Redacted<string>
  readonly tokenSecret: Redacted.Redacted<string>
  /** Where generated secrets live, when they were generated. */
  readonly file: Option.Option<string>
  /** True on the start that generated them. */
  readonly generated: boolean
}

const SecretsFile = Schema.fromJsonString(Schema.Struct({
  apiKey: Schema.String,
  adminKey: Schema.String,
  tokenSecret: Schema.String
}))

const generate = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`

export class Secrets extends Context.Service<Secrets, SecretsShape>()("@herald/server/config/Secrets") {
  static readonly layer = Layer.effect(
    Secrets,
    Effect.gen(function*() {
      const config = yield* HeraldConfig
      const fromEnv = { apiKey: config.apiKey, adminKey: config.adminKey, tokenSecret: config.tokenSecret }
      if (Option.isSome(fromEnv.apiKey) && Option.isSome(fromEnv.adminKey) && Option.isSome(fromEnv.tokenSecret)) {
        return { apiKey: fromEnv.apiKey.value, adminKey: fromEnv.adminKey.value, tokenSecret: fromEnv.tokenSecret.value, file: Option.none(), generated: false }
      }
      if (Option.isSome(config.databaseUrl)) {
        const missing = [
          Option.isNone(fromEnv.apiKey) ? "HERALD_API_KEY" : undefined,
          Option.isNone(fromEnv.adminKey) ? "HERALD_ADMIN_KEY" : undefined,
          Option.isNone(fromEnv.tokenSecret) ? "HERALD_TOKEN_SECRET" : undefined
        ].filter((name) => name !== undefined)
        return yield* new ConfigurationError({
          message: `with DATABASE_URL set, ${missing.join(", ")} must be set too (every node must share them)`
        })
      }
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const file = path.resolve(config.dataDir, "secrets.json")
      const failed = (what: string) => (cause: unknown) =>
        new ConfigurationError({ message: `cannot ${what} ${file}: ${String(cause)}` })
      const stored = (yield* fs.exists(file).pipe(Effect.mapError(failed("read"))))
        ? yield* fs.readFileString(file).pipe(
          Effect.flatMap(Schema.decodeEffect(SecretsFile)),
          Effect.mapError(failed("read"))
        )
        : undefined
      const onDisk = stored ?? {
        apiKey: generate("hk_app_"),
        adminKey: generate("hk_admin_"),
        tokenSecret: generate("")
      }
      if (stored === undefined) {
        yield* fs.makeDirectory(config.dataDir, { recursive: true }).pipe(Effect.mapError(failed("create the folder of")))
        yield* Schema.encodeEffect(SecretsFile)(onDisk).pipe(
          Effect.flatMap((json) => fs.writeFileString(file, json + "\n", { mode: 0o600 })),
          Effect.mapError(failed("write"))
        )
      }
      return {
        apiKey: Option.getOrElse(fromEnv.apiKey, () => Redacted.make(onDisk.apiKey)),
        adminKey: Option.getOrElse(fromEnv.adminKey, () => Redacted.make(onDisk.adminKey)),
        tokenSecret: Option.getOrElse(fromEnv.tokenSecret, () => Redacted.make(onDisk.tokenSecret)),
        file: Option.some(file),
        generated: stored === undefined
      }
    })
  )
}
