/**
 * Everything Herald knows about one user's notifications, in one answer
 * (`InspectUser`, `herald user U`): what a maintainer needs when a user says
 * they never got a notification. Their preferences and digest schedule, their
 * push devices, whether the rollout flag has them in, where their sockets are
 * open across the cluster, and their newest notifications, each with what
 * became of it on every channel.
 *
 * Routing is recorded when a notification is stored (`route`), so a
 * notification shows where it went then, even if the preferences or the
 * rollout flag have changed since.
 */
import { Schema } from "effect"
import { Device } from "./Device.ts"
import { Cursor, UserId } from "./Ids.ts"
import { Notification } from "./Notification.ts"
import { EmailRoute, Preferences } from "./Preferences.ts"
import { Percentage } from "./Rollout.ts"

const Count = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

/**
 * Where a push or email delivery row is: `pending` (queued), `sending` (claimed
 * by a worker), `sent`, `failed` (retried later), `dead` (used all its
 * attempts) or `discarded` (retrying cannot help, such as an unregistered
 * device token, or an operator dropped it).
 */
export const DeliveryState = Schema.Literals(["pending", "sending", "sent", "failed", "dead", "discarded"])
export type DeliveryState = typeof DeliveryState.Type

/** A send's bookkeeping, shared by push and email deliveries and by digest emails. */
export class SendReport extends Schema.Class<SendReport>("@herald/domain/SendReport")({
  state: DeliveryState,
  attempts: Count,
  /** What went wrong on the last failed attempt (cleared once sent). */
  lastError: Schema.NullOr(Schema.String),
  sentAt: Schema.NullOr(Schema.DateTimeUtcFromString),
  /** From the notification being stored to the provider accepting it, in ms; null until sent. */
  latencyMs: Schema.NullOr(Schema.Int)
}) {}

/** One push (per device) or immediate email delivery of a notification. */
export class DeliveryReport extends Schema.Class<DeliveryReport>("@herald/domain/DeliveryReport")({
  deliveryId: Schema.Int,
  channel: Schema.Literals(["push", "email"]),
  /** The device token (push) or the address (email) it was for. */
  target: Schema.String,
  ...SendReport.fields
}) {}

/**
 * A notification's part in the email digest: `pending` until the user's next
 * digest is built, then `included` in digest `digestId` (whose email is
 * `email`), or `skipped` (read in the app first, or no email address).
 */
export class DigestReport extends Schema.Class<DigestReport>("@herald/domain/DigestReport")({
  state: Schema.Literals(["pending", "included", "skipped"]),
  digestId: Schema.NullOr(Schema.Int),
  /** The digest email's send; null until the digest is built. Its latency is this notification's. */
  email: Schema.NullOr(SendReport)
}) {}

/** Where a notification was routed when it was stored (preferences and rollout flag at that moment). */
export class NotificationRoute extends Schema.Class<NotificationRoute>("@herald/domain/NotificationRoute")({
  /** To the user's sockets (live and on resume); off when the flag had the user out or they turned it off. */
  inApp: Schema.Boolean,
  /** To every device registered then: one delivery row per device. */
  push: Schema.Boolean,
  email: EmailRoute
}) {}

/** One notification and what became of it on every channel. */
export class NotificationReport extends Schema.Class<NotificationReport>("@herald/domain/NotificationReport")({
  notification: Notification,
  route: NotificationRoute,
  /** Routed in-app and acknowledged by a client of the user (its cursor is at or below the user's acked cursor). */
  acked: Schema.Boolean,
  /** Push and immediate email deliveries, push first. Routed to push with none: no device was registered then. */
  deliveries: Schema.Array(DeliveryReport),
  /** Null unless email went to the digest. */
  digest: Schema.NullOr(DigestReport)
}) {}

/** The user's digest: when the next one is due and what is waiting for it (settings are in `preferences.digest`). */
export class DigestStatus extends Schema.Class<DigestStatus>("@herald/domain/DigestStatus")({
  /** When the next digest is due; null when nothing is waiting. */
  nextAt: Schema.NullOr(Schema.DateTimeUtcFromString),
  /** When the last digest was built (it is sent right after). */
  lastAt: Schema.NullOr(Schema.DateTimeUtcFromString),
  /** Notifications waiting for the next digest (read ones among them are left out when it is built). */
  pending: Count
}) {}

/**
 * Why the rollout flag has the user in or out: the kill switch, the deny or
 * allow list, their bucket against the percentage, or the answer of a flag
 * provider other than Herald's own (`HERALD_FLAG_PROVIDER`).
 */
export const RolloutReason = Schema.Literals(["killed", "denied", "allowed", "percentage", "provider"])
export type RolloutReason = typeof RolloutReason.Type

/** The rollout flag for this user, as the answering node evaluates it now. */
export class UserRollout extends Schema.Class<UserRollout>("@herald/domain/UserRollout")({
  /** Real-time delivery (sockets and push) is on for the user. */
  enabled: Schema.Boolean,
  reason: RolloutReason,
  /** The user's stable bucket, 0 to 9,999: they are in at any percentage above `bucket / 100`. */
  bucket: Schema.Int,
  /** The lowest percentage that has this user in by bucket. */
  inFrom: Percentage,
  percentage: Percentage,
  killed: Schema.Boolean,
  /** The flag version the answering node applies. */
  version: Schema.Int
}) {}

/** How many of the user's sockets one node holds. */
export class NodeSockets extends Schema.Class<NodeSockets>("@herald/domain/NodeSockets")({
  /** The node's name in the cluster: its runner address (`HERALD_CLUSTER_HOST:HERALD_CLUSTER_PORT`); `single` on a single node. */
  nodeId: Schema.String,
  /** Where clients reach the node's HTTP and WebSocket server, `host:port`. */
  address: Schema.String,
  sockets: Count
}) {}

/** The user's open (authenticated) sockets across the cluster. */
export class UserConnections extends Schema.Class<UserConnections>("@herald/domain/UserConnections")({
  sockets: Count,
  /** The nodes holding at least one, by node id. */
  nodes: Schema.Array(NodeSockets),
  /** How many nodes answered the question, those without a socket of the user included. */
  nodesAnswered: Count,
  /**
   * False when some nodes may be missing: the others could not be asked (Redis unreachable; only the
   * answering node is counted), or a node that heard the question did not answer within 300 ms.
   */
  complete: Schema.Boolean
}) {}

/**
 * What Herald knows about one user. `known` is false when Herald has no row
 * for them (nothing was ever published to them or set for them): everything
 * else is then the defaults.
 */
export class UserReport extends Schema.Class<UserReport>("@herald/domain/UserReport")({
  userId: UserId,
  known: Schema.Boolean,
  /** When Herald first heard of the user. */
  since: Schema.NullOr(Schema.DateTimeUtcFromString),
  /** The user's newest cursor (how many notifications they have had) and the highest a client acknowledged. */
  cursors: Schema.Struct({ last: Cursor, acked: Cursor }),
  preferences: Preferences,
  digest: DigestStatus,
  devices: Schema.Array(Device),
  rollout: UserRollout,
  connections: UserConnections,
  /** The newest notifications, newest first (`limit` of them at most). */
  notifications: Schema.Array(NotificationReport)
}) {}
