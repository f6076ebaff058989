/**
 * A local Amazon SES for tests: `aws-ses-v2-local` (SES v1 and v2 HTTP API,
 * what the AWS SDK speaks), run as a child process of this one on a free port
 * of 127.0.0.1. Point the real SDK at `url` with any credentials; read back
 * what it accepted through its HTTP API (`GET /store`).
 *
 * What it does and does not do (aws-ses-v2-local 2.10):
 * - stores, per accepted email: from, to/cc/bcc, subject, HTML and text
 *   bodies, attachments, the custom `Headers` of simple and template content,
 *   and a random `ses-…` message id; nothing is delivered anywhere;
 * - checks only the request's shape (a from address, a subject, a body) and
 *   that some AWS `Authorization` header is present; it does not verify
 *   signatures, sender identities or recipient addresses (v2 `SendEmail`
 *   accepts `not an address` as a recipient), and it never throttles or
 *   fails like SES does: `failingSes` below answers with SES's error shapes for that.
 *
 * A child process rather than in-process because the emulator keeps its store
 * in a module-level singleton (every in-process instance would share one),
 * and because its CommonJS default export is seen differently by Node and by
 * vitest's module loader.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer, type Server } from "node:http"
import { createRequire } from "node:module"
import { Context, Effect, Layer, Schema } from "effect"

const cli = createRequire(import.meta.url).resolve("aws-ses-v2-local/dist/cli.js")

export class StoredEmail extends Schema.Class<StoredEmail>("@herald/test/StoredEmail")({
  messageId: Schema.String,
  from: Schema.String,
  destination: Schema.Struct({
    to: Schema.Array(Schema.String),
    cc: Schema.Array(Schema.String),
    bcc: Schema.Array(Schema.String)
  }),
  subject: Schema.String,
  body: Schema.Struct({ html: Schema.optionalKey(Schema.String), text: Schema.optionalKey(Schema.String) }),
  headers: Schema.optionalKey(Schema.Array(Schema.Struct({ name: Schema.String, value: Schema.String }))),
  /** Epoch seconds. */
  at: Schema.Number
}) {
  /** The value of the first header named `name` (any case). */
  header(name: string): string | undefined {
    return this.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value
  }
}

const decodeStore = Schema.decodeUnknownEffect(Schema.fromJsonString(Schema.Struct({ emails: Schema.Array(StoredEmail) })))

export class SesEmulator extends Context.Service<SesEmulator, {
  /** The endpoint for the SDK (`SES_ENDPOINT`), `http://127.0.0.1:PORT`. */
  readonly url: string
  /** Every email accepted so far, oldest first. */
  readonly emails: Effect.Effect<ReadonlyArray<StoredEmail>>
  /** Empties the store. */
  readonly clear: Effect.Effect<void>
  /** Stops the emulator, open connections included: later requests are refused. Also runs when the scope closes. */
  readonly close: Effect.Effect<void>
}>()("@herald/test/SesEmulator") {
  static readonly layer = Layer.effect(SesEmulator, Effect.suspend(() => SesEmulator.make))

  /** An emulator that stops when the scope closes. */
  static readonly make = Effect.gen(function*() {
    const { child, port } = yield* Effect.acquireRelease(spawnEmulator, ({ child }) => kill(child))
    const url = `http://127.0.0.1:${port}`
    const request = (path: string, init?: RequestInit) =>
      Effect.tryPromise(async () => {
        const response = await fetch(`${url}${path}`, init)
        return { ok: response.ok, status: response.status, text: await response.text() }
      }).pipe(
        Effect.orDie,
        Effect.flatMap((response) =>
          response.ok ? Effect.succeed(response.text) : Effect.die(`${path}: HTTP ${response.status} ${response.text}`)
        )
      )
    return SesEmulator.of({
      url,
      emails: request("/store").pipe(Effect.flatMap(decodeStore), Effect.map((store) => store.emails), Effect.orDie),
      clear: Effect.asVoid(request("/clear-store", { method: "POST" })),
      close: kill(child)
    })
  })
}

// `--port 0` lets the OS pick a free port; the CLI prints the one it got.
const spawnEmulator = Effect.callback<{ readonly child: ChildProcess; readonly port: number }>((resume) => {
  const child = spawn(process.execPath, [cli, "--host", "127.0.0.1", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString("utf8")
    const port = /server running at http:\/\/[^\s]+:(\d+)/.exec(output)?.[1]
    if (port === undefined) return
    child.off("exit", onExit)
    child.stdout?.off("data", onOutput)
    child.stdout?.resume()
    resume(Effect.succeed({ child, port: Number(port) }))
  }
  const onExit = (code: number | null) =>
    resume(Effect.die(`aws-ses-v2-local exited (${code}) before it listened:\n${output}`))
  child.stdout?.on("data", onOutput)
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
  child.once("exit", onExit)
  return kill(child)
})

const kill = (child: ChildProcess): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGTERM")
  })

/** One SES error, as SES's REST-JSON API sends it. */
export interface SesFault {
  readonly status: number
  /** SES's error type (`TooManyRequestsException`, `MessageRejected`, …): the SDK error's `name`. */
  readonly type: string
  readonly message?: string
  readonly retryAfterSeconds?: number
}

/**
 * An SES look-alike on a free port of 127.0.0.1 that answers every request
 * with `fault` (status, `x-amzn-ErrorType` header and JSON body, as SES does),
 * for the outcomes the emulator cannot produce: throttling, server errors,
 * rejections. It stops when the scope closes.
 */
export const failingSes = (fault: SesFault) =>
  Effect.gen(function*() {
    const server = yield* Effect.acquireRelease(
      Effect.callback<Server>((resume) => {
        const server = createServer((req, res) => {
          req.resume()
          req.on("end", () => {
            res.writeHead(fault.status, {
              "content-type": "application/json",
              "x-amzn-errortype": `${fault.type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`,
              "x-amzn-requestid": "00000000-0000-4000-8000-000000000000",
              ...(fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) })
            })
            res.end(JSON.stringify({ message: fault.message ?? `${fault.type} from failingSes` }))
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      stop
    )
    return { url: `http://127.0.0.1:${portOf(server)}` }
  })

const portOf = (server: Server): number => {
  const address = server.address()
  return typeof address === "object" && address !== null ? address.port : 0
}

const stop = (server: Server): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
    server.closeAllConnections()
  })
