/**
 * Devices registered for push, by FCM registration token.
 */
import { Device, type DeviceToken, type Platform, StorageUnavailable, type UserId } from "@herald/domain"
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"

type Token = typeof DeviceToken.Type

export class DeviceRepo extends Context.Service<DeviceRepo, {
  /** Registers the token for the user, moving it from any other user it belonged to. */
  register(userId: UserId, token: Token, platform: Platform): Effect.Effect<Device, StorageUnavailable>
  unregister(userId: UserId, token: Token): Effect.Effect<boolean, StorageUnavailable>
  list(userId: UserId): Effect.Effect<ReadonlyArray<Device>, StorageUnavailable>
}>()("@herald/server/storage/DeviceRepo") {
  static readonly layer = Layer.effect(DeviceRepo, Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const decodeDevices = Schema.decodeUnknownEffect(Schema.Array(Device))
    const columns = sql`user_id AS "userId", token, platform, to_json(created_at)#>>'{}' AS "createdAt"`

    const register = Effect.fn("DeviceRepo.register")(function*(userId: UserId, token: Token, platform: Platform) {
      const rows = yield* sql`
        WITH owner AS (
          INSERT INTO herald_users (user_id) VALUES (${userId}) ON CONFLICT (user_id) DO NOTHING
        )
        INSERT INTO devices (token, user_id, platform) VALUES (${token}, ${userId}, ${platform})
        ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
          created_at = CASE WHEN devices.user_id = excluded.user_id THEN devices.created_at ELSE now() END
        RETURNING ${columns}`.pipe(Effect.flatMap(decodeDevices), Effect.mapError(unavailable))
      const [device] = rows
      if (device === undefined) {
        return yield* new StorageUnavailable({ message: "the device was not stored", retryable: true })
      }
      return device
    })

    const unregister = Effect.fn("DeviceRepo.unregister")(function*(userId: UserId, token: Token) {
      const rows = yield* sql`DELETE FROM devices WHERE token = ${token} AND user_id = ${userId} RETURNING 1 AS gone`.pipe(
        Effect.mapError(unavailable)
      )
      return rows.length > 0
    })

    const list = Effect.fn("DeviceRepo.list")(function*(userId: UserId) {
      return yield* sql`SELECT ${columns} FROM devices WHERE user_id = ${userId} ORDER BY created_at DESC`.pipe(
        Effect.flatMap(decodeDevices),
        Effect.mapError(unavailable)
      )
    })

    return DeviceRepo.of({ register, unregister, list })
  }))
}

const unavailable = (cause: SqlError.SqlError | Schema.SchemaError): StorageUnavailable =>
  new StorageUnavailable({
    message: cause._tag === "SchemaError" ? `stored device did not decode: ${cause.message}` : `database error: ${cause.message}`,
    retryable: cause._tag !== "SchemaError"
  })
