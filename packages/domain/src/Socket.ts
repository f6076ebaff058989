/**
 * The socket protocol's frames and close codes (see `docs/protocol.md`).
 * Every frame is one JSON text message with a `type` field. Both the server
 * and `NotificationSocket` decode frames with these schemas.
 */
import { Schema } from "effect"
import { Cursor, UserId } from "./Ids.ts"
import { Notification } from "./Notification.ts"

/** The largest frame a client may send, in bytes; a larger one closes the socket with 1009. */
export const MaxClientFrameBytes = 16 * 1024

/**
 * Close codes the server uses. Codes 4401 and 4402 mean: do not reconnect with the same token.
 * 4409 (the client read too slowly) and 4429 (a limit was hit) mean: reconnect after a backoff and
 * resume from the last cursor seen; nothing is lost.
 */
export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  frameTooLarge: 1009,
  invalidToken: 4401,
  tokenExpired: 4402,
  timeout: 4408,
  slowConsumer: 4409,
  limited: 4429
} as const

// ---- client → server ----

/** First frame on a new socket: the client token and, to catch up, the last cursor seen. */
export class AuthFrame extends Schema.Class<AuthFrame>("@herald/domain/AuthFrame")({
  type: Schema.Literal("auth"),
  token: Schema.String.pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(4096))),
  resume: Schema.optionalKey(Cursor)
}) {}

/** Acknowledges every notification up to and including `cursor`. */
export class AckFrame extends Schema.Class<AckFrame>("@herald/domain/AckFrame")({
  type: Schema.Literal("ack"),
  cursor: Cursor
}) {}

export class PingFrame extends Schema.Class<PingFrame>("@herald/domain/PingFrame")({
  type: Schema.Literal("ping")
}) {}

export class PongFrame extends Schema.Class<PongFrame>("@herald/domain/PongFrame")({
  type: Schema.Literal("pong")
}) {}

export const ClientFrame = Schema.Union([AuthFrame, AckFrame, PingFrame, PongFrame])
export type ClientFrame = typeof ClientFrame.Type
export const ClientFrameJson = Schema.fromJsonString(ClientFrame)

// ---- server → client ----

/** Sent once the token is accepted. `cursor` is the user's latest cursor at that moment. */
export class ReadyFrame extends Schema.Class<ReadyFrame>("@herald/domain/ReadyFrame")({
  type: Schema.Literal("ready"),
  userId: UserId,
  cursor: Cursor,
  heartbeatMs: Schema.Int
}) {}

/** One notification, replayed or live; frames arrive in cursor order. */
export class NotificationFrame extends Schema.Class<NotificationFrame>("@herald/domain/NotificationFrame")({
  type: Schema.Literal("notification"),
  notification: Notification,
  /**
   * Sent again by an operator's replay, outside cursor order (its cursor may be
   * below ones already sent): show it unless its id was shown already.
   */
  replayed: Schema.optionalKey(Schema.Literal(true))
}) {}

/** Ends the replay of a resume: everything up to `cursor` has been sent; live frames follow. */
export class SyncedFrame extends Schema.Class<SyncedFrame>("@herald/domain/SyncedFrame")({
  type: Schema.Literal("synced"),
  cursor: Cursor
}) {}

export const SocketErrorCode = Schema.Literals([
  "invalid_token",
  "token_expired",
  "malformed_frame",
  "not_authenticated",
  "already_authenticated",
  "timeout",
  "rate_limited",
  "too_many_sockets",
  "slow_consumer",
  "internal"
])
export type SocketErrorCode = typeof SocketErrorCode.Type

/** Something the client sent was refused; `code` is stable, `message` is for people. */
export class ErrorFrame extends Schema.Class<ErrorFrame>("@herald/domain/ErrorFrame")({
  type: Schema.Literal("error"),
  code: SocketErrorCode,
  message: Schema.String,
  /** With `rate_limited` and `too_many_sockets`: how long to wait before sending again or reconnecting. */
  retryAfterMs: Schema.optionalKey(Schema.Int)
}) {}

export const ServerFrame = Schema.Union([ReadyFrame, NotificationFrame, SyncedFrame, ErrorFrame, PingFrame, PongFrame])
export type ServerFrame = typeof ServerFrame.Type
export const ServerFrameJson = Schema.fromJsonString(ServerFrame)
