/**
 * The flags every `herald` command takes (`--url`, `--api-key`, `--admin-key`,
 * `--json`) and the flag builders several commands share (`--user`, `--token`,
 * cursors, counts).
 *
 * Each flag decodes its value with a Schema, so a bad value fails while the
 * command line is parsed, with an error naming the flag, before anything is
 * sent to the server.
 */
import { Cursor, DeviceToken, UserIdInput } from "@herald/domain"
import { Config, Schema } from "effect"
import { Flag } from "effect/cli"

/** Where the CLI finds the server when neither `--url` nor `HERALD_URL` is set. */
export const DefaultUrl = "http://127.0.0.1:8080"

/** The base URL of a Herald server: `http://` or `https://`, host and optional port and path. */
export const ServerUrl = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
      message: "Expected an http(s) URL such as http://127.0.0.1:8080 (from --url or HERALD_URL)"
    })
  )
)

// Decoded after the fallbacks, so a bad HERALD_URL is reported with its value like a bad --url.
export const url = Flag.String("url").pipe(
  Flag.withFallbackConfig(Config.String("HERALD_URL")),
  Flag.withDefault(DefaultUrl),
  Flag.withSchema(ServerUrl),
  Flag.withMetavar("URL"),
  Flag.withDescription(`Herald server URL (env HERALD_URL, default ${DefaultUrl})`)
)

export const apiKey = Flag.Redacted("api-key").pipe(
  Flag.withFallbackConfig(Config.Redacted("HERALD_API_KEY")),
  Flag.optional,
  Flag.withMetavar("KEY"),
  Flag.withDescription(
    "App API key (env HERALD_API_KEY, else the apiKey in ${HERALD_DATA_DIR:-.data}/secrets.json that the embedded server writes)"
  )
)

/** The admin key; only the admin commands (`herald deadletters …`, `herald replay`, `herald digest …`, `herald rollout …`, `herald stats`, `herald user`) read it, the app commands use `--api-key`. */
export const adminKey = Flag.Redacted("admin-key").pipe(
  Flag.withFallbackConfig(Config.Redacted("HERALD_ADMIN_KEY")),
  Flag.optional,
  Flag.withMetavar("KEY"),
  Flag.withDescription(
    "Admin key, for deadletters, replay, digest, rollout, stats and user only (env HERALD_ADMIN_KEY, else the adminKey in ${HERALD_DATA_DIR:-.data}/secrets.json)"
  )
)

export const json = Flag.Boolean("json").pipe(
  Flag.withDefault(false),
  Flag.withDescription("Print one JSON object per line on stdout and nothing else there")
)

/** The flags shared by every subcommand; they may come before or after the subcommand name. */
export const sharedFlags = { url, apiKey, adminKey, json } as const

/** A user id, checked against the server's rules; the failure says what a user id may hold. */
export { UserIdInput }

/** `--user U`: the app's id for the user. */
export const user = (description: string) =>
  Flag.String("user").pipe(
    Flag.withSchema(UserIdInput),
    Flag.withMetavar("USER"),
    Flag.withDescription(description)
  )

/** `--token T`: a device's FCM registration token, checked against the same rules as the server's. */
export const deviceToken = (description: string) =>
  Flag.String("token").pipe(
    Flag.withSchema(DeviceToken),
    Flag.withMetavar("TOKEN"),
    Flag.withDescription(description)
  )

/** A flag holding a cursor (a non-negative integer). */
export const cursor = (name: string, description: string) =>
  Flag.Int(name).pipe(
    Flag.withSchema(Cursor),
    Flag.withMetavar("CURSOR"),
    Flag.withDescription(description)
  )

/** A flag holding a whole number between `minimum` and `maximum`. */
export const intBetween = (name: string, minimum: number, maximum: number, description: string) =>
  Flag.Int(name).pipe(
    Flag.withSchema(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum, maximum })))),
    Flag.withMetavar("N"),
    Flag.withDescription(description)
  )

/** A flag holding a positive whole number. */
export const positiveInt = (name: string, metavar: string, description: string) =>
  Flag.Int(name).pipe(
    Flag.withSchema(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))),
    Flag.withMetavar(metavar),
    Flag.withDescription(description)
  )
