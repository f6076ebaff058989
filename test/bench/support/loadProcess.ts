/**
 * The benchmark's end of a load generator process (`../load/*.ts`): forks
 * the script (plain `node`, none of this process's flags), decodes whatever
 * it sends with the script's Schema, and hands messages out by tag: `next`
 * waits for the next one of a tag, `on` sees every one (progress). A child
 * that exits early fails every wait with its stderr's tail.
 */
import { Schema } from "effect"
import { type ChildProcess, fork, type Serializable } from "node:child_process"
import { resolve } from "node:path"

export interface LoadProcess<In extends Serializable, Out extends { readonly _tag: string }> {
  readonly pid: number
  send(message: In): void
  next<T extends Out["_tag"]>(tag: T, timeoutMs: number): Promise<Extract<Out, { readonly _tag: T }>>
  on<T extends Out["_tag"]>(tag: T, f: (message: Extract<Out, { readonly _tag: T }>) => void): void
  /** Waits for the exit (after the child was told to close), killing it after `timeoutMs`. */
  exit(timeoutMs: number): Promise<number | null>
  kill(): void
}

interface Waiter<Out> {
  readonly tag: string
  readonly resolve: (message: Out) => void
  readonly reject: (error: Error) => void
}

export const forkLoad = <In extends Serializable, S extends Schema.ConstraintDecoder<{ readonly _tag: string }>>(
  script: string,
  schema: S
): LoadProcess<In, S["Type"]> => {
  type Out = S["Type"]
  const decode = Schema.decodeUnknownSync(schema)
  const child: ChildProcess = fork(resolve(import.meta.dirname, "..", "load", script), [], {
    execArgv: [],
    stdio: ["ignore", "inherit", "pipe", "ipc"]
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not fork ${script}`)
  let stderr = ""
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000)
  })
  const queued: Array<Out> = []
  const waiters: Array<Waiter<Out>> = []
  const listeners = new Map<string, Array<(message: Out) => void>>()
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)))
  let gone: Error | undefined

  child.on("message", (raw: unknown) => {
    const message = decode(raw)
    for (const listener of listeners.get(message._tag) ?? []) listener(message)
    const waiter = waiters.findIndex((w) => w.tag === message._tag)
    if (waiter >= 0) waiters.splice(waiter, 1)[0]?.resolve(message)
    else if (!listeners.has(message._tag)) queued.push(message)
  })
  void exited.then((code) => {
    gone = new Error(`${script} (pid ${pid}) exited with ${String(code)}: ${stderr.trim().split("\n").slice(-8).join("\n")}`)
    for (const waiter of waiters.splice(0)) waiter.reject(gone)
  })

  const isTag = <T extends Out["_tag"]>(tag: T) => (message: Out): message is Extract<Out, { readonly _tag: T }> =>
    message._tag === tag

  return {
    pid,
    send: (message) => {
      child.send?.(message)
    },
    next: (tag, timeoutMs) => {
      const matches = isTag(tag)
      const index = queued.findIndex(matches)
      const found = queued[index]
      if (found !== undefined && matches(found)) {
        queued.splice(index, 1)
        return Promise.resolve(found)
      }
      if (gone !== undefined) return Promise.reject(gone)
      return new Promise((resolveNext, rejectNext) => {
        const timer = setTimeout(() => rejectNext(new Error(`${script} sent no ${tag} within ${timeoutMs} ms`)), timeoutMs)
        waiters.push({
          tag,
          resolve: (message) => {
            clearTimeout(timer)
            if (matches(message)) resolveNext(message)
            else rejectNext(new Error(`${script} answered ${message._tag}, not ${tag}`))
          },
          reject: (error) => (clearTimeout(timer), rejectNext(error))
        })
      })
    },
    on: (tag, f) => {
      const matches = isTag(tag)
      const forTag = listeners.get(tag) ?? []
      forTag.push((message) => {
        if (matches(message)) f(message)
      })
      listeners.set(tag, forTag)
    },
    exit: async (timeoutMs) => {
      // A load process exits when its parent lets go of it (ipc.ts); the kill is for one that hangs.
      if (child.connected) child.disconnect()
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
      const code = await exited
      clearTimeout(timer)
      return code
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    }
  }
}
