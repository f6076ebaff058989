/**
 * Runs `node packages/server/src/bin.ts` as a child process, so the server
 * gets its own event loop and CPU time apart from the load generator. Its
 * stdout and stderr go to files in a temp directory (kept for inspection);
 * `stop` sends SIGINT, which drains the server the way Ctrl-C would, and
 * `kill` sends any signal (a cluster benchmark's `kill -9`).
 *
 * `startProcess` does the same for any Node script that serves `GET /readyz`
 * on `PORT` (the comparison benchmark's competitor servers).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, openSync, readFileSync, closeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Effect } from "effect"
import { freePort } from "../../support/TestServer.ts"

export interface ServerProcessOptions {
  /** The repository root (the server's bin is resolved from it). */
  readonly root: string
  readonly databaseUrl: string
  readonly apiKey: string
  readonly adminKey: string
  readonly tokenSecret: string
  /** How long `/readyz` may take to answer 200. */
  readonly readyTimeoutMs?: number
  /** The HTTP port; a free one when unset. Cluster nodes are given theirs up front. */
  readonly port?: number
  /** More environment on top of the above (`REDIS_URL`, `HERALD_CLUSTER_PORT`, …). */
  readonly env?: Readonly<Record<string, string>>
  /** Names the log directory, to tell several servers' logs apart. */
  readonly label?: string
  /** Options for `node` itself, before the script (`--cpu-prof`, …). */
  readonly nodeArgs?: ReadonlyArray<string>
}

export interface ProcessOptions {
  /** The working directory; `script` is resolved from it. */
  readonly root: string
  readonly script: string
  /** Set as `PORT`, and where `/readyz` is asked; a free one when unset. */
  readonly port?: number
  readonly env?: Readonly<Record<string, string>>
  readonly label?: string
  readonly readyTimeoutMs?: number
  readonly nodeArgs?: ReadonlyArray<string>
}

export interface ServerExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** From SIGINT to exit; null when it had exited before `stop`. */
  readonly shutdownMs: number | null
  /** True when it had to be killed with SIGKILL. */
  readonly killed: boolean
}

export interface ServerProcess {
  readonly pid: number
  readonly port: number
  readonly url: string
  readonly wsUrl: string
  readonly logDir: string
  readonly stdoutFile: string
  readonly stderrFile: string
  /** Resident and peak resident memory (MiB) from /proc; null off Linux or after exit. */
  memory(): { readonly rssMb: number; readonly peakRssMb: number } | null
  /** Whether the process has exited (on its own or after `stop`). */
  exited(): ServerExit | null
  /** SIGINT, then waits up to `timeoutMs` before SIGKILL. */
  stop(timeoutMs?: number): Promise<ServerExit>
  /** Sends `signal` at once (no drain) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<ServerExit>
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

/** The last `lines` lines of a text file ("" when it cannot be read). */
export const tail = (file: string, lines = 40): string => {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n")
  } catch {
    return ""
  }
}

const procKb = (pid: number, field: string): number | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)
    return match?.[1] === undefined ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

export const startServer = async (options: ServerProcessOptions): Promise<ServerProcess> => {
  const port = options.port ?? await Effect.runPromise(freePort)
  return startProcess({
    root: options.root,
    script: "packages/server/src/bin.ts",
    port,
    ...(options.label === undefined ? {} : { label: options.label }),
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
    env: {
      DATABASE_URL: options.databaseUrl,
      HERALD_HOST: "127.0.0.1",
      HERALD_PORT: String(port),
      HERALD_API_KEY: options.apiKey,
      HERALD_ADMIN_KEY: options.adminKey,
      HERALD_TOKEN_SECRET: options.tokenSecret,
      // Overloaded on purpose, a server's rollout guard would rightly switch real-time delivery
      // off, and the run would then count email-only notifications as frames lost.
      HERALD_GUARD: "false",
      // Every load generator connects from 127.0.0.1 and publishes with one key: the per-IP and
      // per-key limits, meant for many clients behind many addresses, would throttle the run
      // itself. The bare ws and Socket.IO servers have no limits either.
      HERALD_RATE_LIMIT_RPC: "0",
      HERALD_RATE_LIMIT_CONNECT: "0",
      HERALD_MAX_SOCKETS_PER_IP: "0",
      ...options.env
    }
  })
}

export const startProcess = async (options: ProcessOptions): Promise<ServerProcess> => {
  const port = options.port ?? await Effect.runPromise(freePort)
  const logDir = mkdtempSync(join(tmpdir(), `herald-bench-${options.label === undefined ? "" : `${options.label}-`}`))
  const stdoutFile = join(logDir, "server.stdout.log")
  const stderrFile = join(logDir, "server.stderr.log")
  const stdoutFd = openSync(stdoutFile, "w")
  const stderrFd = openSync(stderrFile, "w")
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), resolve(options.root, options.script)], {
    cwd: options.root,
    env: { ...process.env, PORT: String(port), HERALD_DATA_DIR: join(logDir, "data"), ...options.env },
    stdio: ["ignore", stdoutFd, stderrFd]
  })
  // The child holds its own copies of the descriptors.
  closeSync(stdoutFd)
  closeSync(stderrFd)
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not spawn ${options.script}`)

  // Mutable holders rather than `let`s: they change in callbacks, which control-flow narrowing cannot see.
  const state: { exit: ServerExit | null; stopping: { readonly at: number; killed: boolean } | null } = {
    exit: null,
    stopping: null
  }
  const exitedPromise = new Promise<ServerExit>((done) => {
    child.once("exit", (code, signal) => {
      const exit: ServerExit = {
        code,
        signal,
        shutdownMs: state.stopping === null ? null : Math.round(performance.now() - state.stopping.at),
        killed: state.stopping?.killed ?? false
      }
      state.exit = exit
      done(exit)
    })
  })

  const url = `http://127.0.0.1:${port}`
  const server: ServerProcess = {
    pid,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    logDir,
    stdoutFile,
    stderrFile,
    memory: () => {
      const rss = procKb(pid, "VmRSS")
      const peak = procKb(pid, "VmHWM")
      return rss === undefined || peak === undefined || state.exit !== null
        ? null
        : { rssMb: Math.round(rss / 1024 * 10) / 10, peakRssMb: Math.round(peak / 1024 * 10) / 10 }
    },
    exited: () => state.exit,
    stop: async (timeoutMs = 15_000) => {
      if (state.exit !== null) return state.exit
      const stopping = { at: performance.now(), killed: false }
      state.stopping = stopping
      child.kill("SIGINT")
      const timer = setTimeout(() => {
        if (state.exit === null) {
          stopping.killed = true
          child.kill("SIGKILL")
        }
      }, timeoutMs)
      const result = await exitedPromise
      clearTimeout(timer)
      return result
    },
    kill: (signal) => {
      if (state.exit === null) child.kill(signal)
      return exitedPromise
    }
  }

  const deadline = performance.now() + (options.readyTimeoutMs ?? 30_000)
  while (true) {
    const early = state.exit
    if (early !== null) {
      throw new Error(`${options.script} exited before it was ready (code ${String(early.code)}); stderr:\n${tail(stderrFile)}\nstdout:\n${tail(stdoutFile)}`)
    }
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) })
      await response.arrayBuffer()
      if (response.status === 200) return server
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) {
      await server.stop(5_000)
      throw new Error(`${options.script} did not answer /readyz with 200 in time; stderr:\n${tail(stderrFile)}`)
    }
    await sleep(100)
  }
}
