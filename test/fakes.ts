/**
 * Runs the local stand-ins for FCM and SES that the tests use, so a server
 * on the embedded default can send real push and email without leaving
 * this machine: `npm run fakes`, then start Herald with the printed
 * variables. Prints each push and email as the fakes receive it.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Schedule } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import { makeFakeFcm, makeServiceAccount } from "./support/FakeFcm.ts"
import { SesEmulator } from "./support/SesEmulator.ts"

const ProjectId = "herald-local"

const program = Effect.gen(function*() {
  const dataDir = resolve(process.env["HERALD_DATA_DIR"] ?? ".data")
  mkdirSync(dataDir, { recursive: true })
  const account = makeServiceAccount(ProjectId)
  const credentials = resolve(dataDir, "fake-fcm-service-account.json")
  writeFileSync(credentials, account.json, { mode: 0o600 })
  const fcm = yield* makeFakeFcm({ serviceAccountKey: account.publicKey })
  const ses = yield* SesEmulator.make
  const env = [
    `FCM_PROJECT_ID=${ProjectId}`,
    `FCM_CREDENTIALS=${credentials}`,
    `FCM_ENDPOINT=${fcm.url}`,
    "FCM_TLS_INSECURE=true",
    "SES_FROM=herald@example.com",
    "SES_REGION=us-east-1",
    `SES_ENDPOINT=${ses.url}`,
    "AWS_ACCESS_KEY_ID=local",
    "AWS_SECRET_ACCESS_KEY=local"
  ]
  const envFile = resolve(dataDir, "fakes.env")
  writeFileSync(envFile, env.join("\n") + "\n")
  process.stdout.write(
    `fake FCM at ${fcm.url}, SES emulator at ${ses.url}\n` +
      `start Herald against them in another shell:\n\n  env $(cat ${envFile}) npm start\n\n` +
      `(Ctrl-C stops the fakes)\n`
  )
  let pushes = 0
  let emails = 0
  yield* Effect.repeat(
    Effect.gen(function*() {
      const received = fcm.received()
      for (const push of received.slice(pushes)) {
        process.stdout.write(`push  → ${push.token}: ${push.notification?.title ?? ""} (collapse ${push.collapseKey ?? "-"})\n`)
      }
      pushes = received.length
      const stored = yield* ses.emails
      for (const email of stored.slice(emails)) {
        process.stdout.write(`email → ${email.destination.to.join(", ")}: ${email.subject}\n`)
      }
      emails = stored.length
    }),
    Schedule.spaced("500 millis")
  )
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
