/**
 * Small readings of the machine and the server process for the report:
 * CPU time from /proc, the open-file limit, problems in the server's logs.
 */
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"

/**
 * User + system CPU seconds the process has used, from /proc/<pid>/stat
 * (fields 14 and 15, in clock ticks; Linux exposes them at USER_HZ = 100).
 * Null off Linux or once the process is gone.
 */
export const readCpuSeconds = (pid: number): number | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name (field 2) may contain spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / 100 : null
  } catch {
    return null
  }
}

/** The soft limit on open files (`ulimit -n`) this process runs under, as the shell reports it. */
export const fileLimit = (): string => {
  const result = spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" })
  return result.status === 0 ? result.stdout.trim() : "unknown"
}

/**
 * Log entries at ERROR/FATAL and WARN level across the given files (Effect's
 * console logger writes `[07:45:36.455] INFO (#2): message`), and how many
 * lines are not log entries at all (stack traces, Node warnings).
 */
export const countLogProblems = (
  files: ReadonlyArray<string>
): { readonly errors: number; readonly warnings: number; readonly otherLines: number } => {
  let errors = 0
  let warnings = 0
  let otherLines = 0
  for (const file of files) {
    let text = ""
    try {
      text = readFileSync(file, "utf8")
    } catch {
      continue
    }
    for (const line of text.split("\n")) {
      const level = /^\[[^\]]*\] ([A-Z]+) \(/.exec(line)?.[1]
      if (level === "ERROR" || level === "FATAL") errors++
      else if (level === "WARN" || level === "WARNING") warnings++
      else if (level === undefined && line.trim() !== "" && !line.startsWith(" ")) otherLines++
    }
  }
  return { errors, warnings, otherLines }
}
