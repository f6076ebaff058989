#!/usr/bin/env node
/**
 * Starts Herald from the environment (see the README's table). Ctrl-C
 * closes sockets with 1001, drains the server and stops the embedded
 * PostgreSQL.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import { HeraldConfig } from "./config/HeraldConfig.ts"
import { ServerLayer } from "./Main.ts"

Layer.launch(ServerLayer(HeraldConfig.layer)).pipe(
  Effect.catchTag("ConfigurationError", (error) => Effect.logError(`cannot start: ${error.message}`).pipe(Effect.andThen(Effect.fail(error)))),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
