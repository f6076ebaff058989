#!/usr/bin/env node
/**
 * Starts Herald from the environment (see the README's table). Ctrl-C or
 * SIGTERM closes sockets with 1001, drains the server, hands a cluster
 * node's shards over and stops the embedded PostgreSQL, then exits 0.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Layer, Runtime } from "effect"
import { HeraldConfig } from "./config/HeraldConfig.ts"
import { ServerLayer } from "./Main.ts"

Layer.launch(ServerLayer(HeraldConfig.layer)).pipe(
  Effect.catchTag(["ConfigurationError", "ConfigError"], (error) =>
    Effect.logError(`cannot start: ${error.message}`).pipe(Effect.andThen(Effect.fail(error)))),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    // SIGINT or SIGTERM ends in an orderly shutdown, which is a success for a supervisor.
    teardown: (exit, onExit) =>
      Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)
  })
)
