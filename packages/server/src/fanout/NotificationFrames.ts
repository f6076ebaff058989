/**
 * The JSON text of the notification frames the fan-out carries: built once
 * per notification and written as is to every socket of the user. The
 * notification is a stored row, so it is not checked again.
 */
import { type Notification, Socket } from "@herald/domain"
import { Schema } from "effect"

const encodeFrame = Schema.encodeSync(Socket.NotificationFrame)

/** A live notification frame, in cursor order. */
export const notificationFrameText = (notification: Notification): string =>
  JSON.stringify(encodeFrame(new Socket.NotificationFrame({ type: "notification", notification }, { disableChecks: true })))

/** A replayed notification frame (an operator's replay, outside cursor order). */
export const replayFrameText = (notification: Notification): string =>
  JSON.stringify(encodeFrame(new Socket.NotificationFrame({ type: "notification", notification, replayed: true }, { disableChecks: true })))
