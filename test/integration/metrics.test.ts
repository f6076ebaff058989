/**
 * The server's metrics move with what happens: stored notifications,
 * duplicates suppressed, live sockets and the in-app delivery latency.
 */
import { assert, layer } from "@effect/vitest"
import { Metrics } from "@herald/server"
import { Effect, Metric } from "effect"
import { eventually } from "../support/eventually.ts"
import { Herald } from "../support/Herald.ts"
import { openRaw } from "../support/RawSocket.ts"

layer(Herald.layer(), { excludeTestServices: true, timeout: "60 seconds" })("metrics", (it) => {
  it.effect("publishing, duplicates, sockets and deliveries are counted", () =>
    Effect.gen(function*() {
      const herald = yield* Herald
      const stored = (yield* Metric.value(Metrics.notificationsStored)).count
      const duplicates = (yield* Metric.value(Metrics.duplicatesSuppressed)).count
      const deliveries = (yield* Metric.value(Metrics.inAppDeliveryLatency)).count
      const live = (yield* Metric.value(Metrics.socketsLive)).value

      const socket = yield* openRaw(herald.server.wsUrl)
      yield* socket.sendJson({ type: "auth", token: yield* herald.token("m-user") })
      yield* socket.until("synced")
      assert.strictEqual((yield* Metric.value(Metrics.socketsLive)).value, live + 1)

      yield* herald.client.notify({ userId: "m-user", kind: "mention", title: "one", idempotencyKey: "m1" })
      yield* herald.client.notify({ userId: "m-user", kind: "mention", title: "one", idempotencyKey: "m1" })
      yield* socket.next()
      assert.strictEqual((yield* Metric.value(Metrics.notificationsStored)).count, stored + 1)
      assert.strictEqual((yield* Metric.value(Metrics.duplicatesSuppressed)).count, duplicates + 1)
      assert.strictEqual((yield* Metric.value(Metrics.inAppDeliveryLatency)).count, deliveries + 1)

      yield* socket.close()
      yield* socket.closed()
      // The server sees the close a moment after the client does.
      const after = yield* eventually(Metric.value(Metrics.socketsLive), (gauge) => gauge.value === live)
      assert.strictEqual(after.value, live)
    }).pipe(Effect.scoped))
})
