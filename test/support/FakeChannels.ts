/**
 * A server's push and email channels configured by environment, exactly as
 * a user would (`FCM_*`, `SES_*`), to reach a fake FCM and an SES endpoint
 * (the emulator, or a proxy in front of it). The service-account file lives
 * in a temp dir of the scope's, removed when the scope closes.
 */
import { ChannelsFromEnv } from "@herald/server"
import { ConfigProvider, Effect, Layer } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface FakeChannelsOptions {
  readonly projectId: string
  /** `makeServiceAccount(projectId).json`, whose key the fake FCM was given. */
  readonly serviceAccountJson: string
  readonly fcmUrl: string
  readonly sesUrl: string
}

export const channelsToFakes = (options: FakeChannelsOptions) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "herald-channels-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    writeFileSync(join(dir, "service-account.json"), options.serviceAccountJson)
    const env = {
      FCM_PROJECT_ID: options.projectId,
      FCM_CREDENTIALS: join(dir, "service-account.json"),
      FCM_ENDPOINT: options.fcmUrl,
      FCM_TLS_INSECURE: "true",
      SES_FROM: "herald@example.com",
      SES_REGION: "us-east-1",
      SES_ENDPOINT: options.sesUrl,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test"
    }
    return ChannelsFromEnv.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))))
  })
