/**
 * The `herald` command tree and how it runs: the root command with every
 * subcommand, help on stdout, and parse errors left to `bin.ts`, which prints
 * them as one line.
 */
import { Effect, Layer } from "effect"
import { CliConfig, CliOutput, Command, GlobalFlag } from "effect/cli"
import { deadletters } from "./commands/deadletters.ts"
import { devices } from "./commands/devices.ts"
import { digest } from "./commands/digest.ts"
import { inbox } from "./commands/inbox.ts"
import { prefs } from "./commands/prefs.ts"
import { read } from "./commands/read.ts"
import { replay } from "./commands/replay.ts"
import { rollout } from "./commands/rollout.ts"
import { send } from "./commands/send.ts"
import { stats } from "./commands/stats.ts"
import { tail } from "./commands/tail.ts"
import { token } from "./commands/token.ts"
import { user } from "./commands/user.ts"
import { stdoutLine } from "./Output.ts"
import { herald } from "./Root.ts"

export const Version = "0.1.0"

export const cli = herald.pipe(Command.withSubcommands([send, tail, inbox, read, token, prefs, devices, deadletters, replay, digest, rollout, stats, user]))

// The default presenter prints the whole help before a parse error; we print the error alone, on one line.
const presenter: CliOutput.Presenter = {
  present: (event) =>
    Effect.gen(function*() {
      const formatter = yield* CliOutput.Formatter
      switch (event._tag) {
        case "Help":
          return yield* stdoutLine(formatter.formatHelpDoc(event.helpDoc))
        case "Version":
          return yield* stdoutLine(formatter.formatVersion(event.name, event.version))
        case "InvalidInvocation":
          return
      }
    }).pipe(Effect.ignore)
}

const settings = Layer.mergeAll(
  CliOutput.layerPresenter(presenter),
  // No --wizard (interactive) or --log-level (the CLI does not log): keep help short.
  CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions] })
)

/** Runs `herald` with the process's arguments. */
export const run = Command.run(cli, { version: Version }).pipe(Effect.provide(settings))
