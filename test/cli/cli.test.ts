/**
 * The `herald` CLI as users meet it: a child process (`node packages/cli/src/bin.ts …`)
 * whose stdout, stderr and exit code are the contract. These tests need no
 * server; the ones against a running server live with the integration tests.
 */
import { execFile } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const repoRoot = fileURLToPath(new URL("../..", import.meta.url))
const bin = join(repoRoot, "packages/cli/src/bin.ts")

// Nothing on this port answers, so every call to it fails to connect at once.
const deadUrl = "http://127.0.0.1:1"

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

let emptyDataDir = ""

/** Runs the CLI from the repo root with a clean environment (no HERALD_* variables unless given). */
const herald = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Run> => {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("HERALD_")))
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repoRoot, env: { ...inherited, HERALD_DATA_DIR: emptyDataDir, NO_COLOR: "1", ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resolve({ code, stdout, stderr })
      }
    )
  })
}

const lines = (text: string) => text.split("\n").filter((line) => line.length > 0)

beforeAll(async () => {
  emptyDataDir = await mkdtemp(join(tmpdir(), "herald-cli-test-"))
})

afterAll(async () => {
  await rm(emptyDataDir, { recursive: true, force: true })
})

describe("herald --help", () => {
  it("lists every command on stdout and exits 0", async () => {
    const run = await herald(["--help"])
    expect(run.code).toBe(0)
    expect(run.stderr).toBe("")
    for (const command of ["send", "tail", "inbox", "read", "token", "prefs", "devices", "deadletters", "digest"]) {
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\s+\\S`, "m"))
    }
    expect(run.stdout).toContain("--url")
    expect(run.stdout).toContain("--api-key")
    expect(run.stdout).toContain("--admin-key")
    expect(run.stdout).toContain("--json")
  })

  it.each([
    ["send", ["--user", "--kind", "--title", "--body", "--link", "--actor", "--key"]],
    ["tail", ["--user", "--count", "--resume", "--timeout"]],
    ["inbox", ["--user", "--unread", "--limit", "--before"]],
    ["read", ["--user", "--id", "--all"]],
    ["token", ["--user", "--ttl"]],
    ["prefs get", ["--user"]],
    [
      "prefs set",
      [
        "--user",
        "--kind",
        "--in-app",
        "--push",
        "--email",
        "--email-address",
        "--no-email-address",
        "--existing-before-rollout",
        "--digest",
        "--at",
        "--weekday",
        "--time-zone",
        "--digest-include-read"
      ]
    ],
    ["devices add", ["--user", "--token", "--platform"]],
    ["devices remove", ["--user", "--token"]],
    ["devices list", ["--user"]],
    ["deadletters list", ["--user", "--channel", "--limit"]],
    ["digest preview", ["--user"]],
    ["digest send-now", ["--user"]]
  ])("%s --help lists its flags, the shared ones and an example", async (command, flags) => {
    const run = await herald([...command.split(" "), "--help"])
    expect(run.code).toBe(0)
    for (const flag of [...flags, "--url", "--api-key", "--admin-key", "--json"]) {
      expect(run.stdout).toMatch(new RegExp(`^\\s+${flag}\\b.*\\S\\s{2,}\\S`, "m"))
    }
    expect(run.stdout).toContain(`herald ${command} --user`)
  })

  it.each([
    ["prefs", ["get", "set"]],
    ["devices", ["add", "remove", "list"]],
    ["deadletters", ["list"]],
    ["digest", ["preview", "send-now"]]
  ])("%s alone lists its subcommands and exits 0", async (group, subcommands) => {
    const run = await herald([group])
    expect(run.code).toBe(0)
    expect(run.stderr).toBe("")
    for (const command of subcommands) {
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\s+\\S`, "m"))
    }
    expect(run.stdout).toContain(`herald ${group} `)
  })
})

describe("bad input", () => {
  it("send with an unknown --kind exits 2 with one stderr line naming the flag", async () => {
    const run = await herald(["send", "--user", "alice", "--kind", "bogus", "--title", "hi", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--kind.*bogus/)
    expect(run.stderr).toContain("mention")
  })

  it("a --count that is not a positive integer exits 2 naming --count", async () => {
    const run = await herald(["tail", "--user", "alice", "--count", "0"])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--count/)
  })

  it("read without --id or --all exits 2 with one line", async () => {
    const run = await herald(["read", "--user", "alice", "--api-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--id.*--all/)
  })

  it("a field the server's schema refuses is reported by its path before anything is sent", async () => {
    const run = await herald(["send", "--user", "alice", "--kind", "mention", "--title", "", "--api-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: invalid request: items\[0\]\.title: /)
  })

  it("no API key anywhere exits 2 with one line saying where it looked", async () => {
    const run = await herald(["send", "--user", "alice", "--kind", "mention", "--title", "hi", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: no API key: .*HERALD_API_KEY.*secrets\.json/)
  })
})

describe("bad input to prefs and devices", () => {
  it("prefs set without anything to change exits 2 with one stderr line", async () => {
    const run = await herald(["prefs", "set", "--user", "alice", "--api-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: nothing to change: .*--in-app.*--existing-before-rollout/)
  })

  it("prefs set --kind without a per-kind change exits 2", async () => {
    const run = await herald(["prefs", "set", "--user", "alice", "--kind", "mention", "--api-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: --kind needs .*--in-app, --push or --email/)
  })

  it("prefs set with both --email-address and --no-email-address exits 2", async () => {
    const run = await herald([
      "prefs", "set", "--user", "alice", "--email-address", "a@example.com", "--no-email-address", "--api-key", "k", "--url", deadUrl
    ])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--email-address.*--no-email-address/)
  })

  it.each([
    ["--push", "maybe", ["on", "off"]],
    ["--email", "weekly", ["off", "immediate", "digest"]],
    ["--existing-before-rollout", "yes", ["true", "false"]],
    ["--kind", "bogus", ["mention", "status_update"]]
  ])("prefs set %s %s exits 2 naming the flag and its choices", async (flag, value, choices) => {
    const run = await herald(["prefs", "set", "--user", "alice", flag, value, "--in-app", "on", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(new RegExp(`^herald: .*${flag}.*${value}`))
    for (const choice of choices) expect(run.stderr).toContain(choice)
  })

  it("a bad --email-address exits 2 naming the flag", async () => {
    const run = await herald(["prefs", "set", "--user", "alice", "--email-address", "nope", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--email-address.*nope/)
  })

  it("devices add with a bad --platform exits 2 with one line naming the flag", async () => {
    const run = await herald(["devices", "add", "--user", "alice", "--token", "t1", "--platform", "blackberry", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--platform.*blackberry/)
    expect(run.stderr).toContain("android")
  })

  it("devices remove without --token exits 2 naming it", async () => {
    const run = await herald(["devices", "remove", "--user", "alice", "--api-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--token/)
  })

  it("an unknown subcommand of a group exits 2 with one line", async () => {
    const run = await herald(["prefs", "bogus"])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*bogus/)
  })
})

describe("bad input to the digest flags of prefs set", () => {
  const prefsSet = (...args: ReadonlyArray<string>) =>
    herald(["prefs", "set", "--user", "alice", ...args, "--api-key", "k", "--url", deadUrl])

  it("--digest weekly --at without --weekday exits 2 naming --weekday", async () => {
    const run = await prefsSet("--digest", "weekly", "--at", "09:00")
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: --digest weekly needs --weekday\b/)
  })

  it("--digest weekly --weekday without --at exits 2 naming --at", async () => {
    const run = await prefsSet("--digest", "weekly", "--weekday", "monday")
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: --digest weekly needs --at HH:MM/)
  })

  it("--digest daily without --at exits 2 naming --at", async () => {
    const run = await prefsSet("--digest", "daily")
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: --digest daily needs --at HH:MM/)
  })

  it("--digest hourly --at 09:00 exits 2: hourly takes no --at", async () => {
    const run = await prefsSet("--digest", "hourly", "--at", "09:00")
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: --digest hourly .*no --at/)
  })

  it.each([
    [["--digest", "daily", "--at", "09:00", "--weekday", "monday"], /^herald: --weekday goes only with --digest weekly/],
    [["--digest", "hourly", "--weekday", "monday"], /^herald: --weekday goes only with --digest weekly/],
    [["--at", "09:00"], /^herald: --at needs --digest daily or --digest weekly/],
    [["--weekday", "friday", "--time-zone", "UTC"], /^herald: --weekday needs --digest weekly/]
  ])("prefs set %j exits 2 with one line", async (args, message) => {
    const run = await prefsSet(...args)
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(message)
  })

  it("a --time-zone that is not an IANA zone exits 2 naming the flag", async () => {
    const run = await prefsSet("--time-zone", "Mars/Olympus")
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--time-zone.*Mars\/Olympus.*IANA time zone/)
  })

  it.each([
    ["--at", "9:00", "HH:MM"],
    ["--digest", "yearly", "weekly"],
    ["--weekday", "funday", "sunday"],
    ["--digest-include-read", "yes", "false"]
  ])("prefs set %s %s exits 2 naming the flag and what it takes", async (flag, value, expected) => {
    const run = await prefsSet(flag, value)
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(new RegExp(`^herald: .*${flag}.*${value}`))
    expect(run.stderr).toContain(expected)
  })

  it("nothing to change names the digest flags too", async () => {
    const run = await prefsSet()
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^herald: nothing to change: .*--digest, --time-zone, --digest-include-read/)
  })
})

describe("bad input to digest", () => {
  it.each(["preview", "send-now"])("digest %s without --user exits 2 naming it", async (command) => {
    const run = await herald(["digest", command, "--admin-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--user/)
  })

  it("digest preview needs the admin key; --api-key does not count", async () => {
    const run = await herald(["digest", "preview", "--user", "alice", "--api-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: no admin key: pass --admin-key or set HERALD_ADMIN_KEY /)
  })
})

describe("bad input to deadletters", () => {
  it("deadletters list with a bad --channel exits 2 with one line naming the flag and its choices", async () => {
    const run = await herald(["deadletters", "list", "--channel", "sms", "--admin-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: .*--channel.*sms/)
    expect(run.stderr).toContain("push")
    expect(run.stderr).toContain("email")
  })

  it.each(["0", "501"])("deadletters list --limit %s exits 2 naming --limit", async (limit) => {
    const run = await herald(["deadletters", "list", "--limit", limit, "--admin-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(new RegExp(`^herald: .*--limit.*${limit}`))
  })

  it("no admin key anywhere exits 2 with one line saying where it looked; --api-key does not count", async () => {
    const run = await herald(["deadletters", "list", "--api-key", "k", "--url", deadUrl])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: no admin key: pass --admin-key or set HERALD_ADMIN_KEY .*secrets\.json/)
  })

  it("a secrets.json without adminKey is no admin key", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "herald-cli-secrets-"))
    try {
      await writeFile(join(dataDir, "secrets.json"), JSON.stringify({ apiKey: "hk_app_x" }))
      const run = await herald(["deadletters", "list", "--url", deadUrl], { HERALD_DATA_DIR: dataDir })
      expect(run.code).toBe(2)
      expect(lines(run.stderr)).toHaveLength(1)
      expect(run.stderr).toMatch(/^herald: no admin key: .*secrets\.json has no adminKey field/)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})

describe("unreachable server", () => {
  it("send to a URL nobody answers exits 1 with one 'cannot reach' line", async () => {
    const run = await herald(["send", "--user", "alice", "--kind", "mention", "--title", "hi", "--api-key", "k", "--url", deadUrl])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: cannot reach http:\/\/127\.0\.0\.1:1\b/)
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/)
  })

  it("takes the URL from HERALD_URL and the key from HERALD_API_KEY", async () => {
    const run = await herald(["inbox", "--user", "alice"], { HERALD_URL: deadUrl, HERALD_API_KEY: "k" })
    expect(run.code).toBe(1)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: cannot reach http:\/\/127\.0\.0\.1:1\b/)
  })

  it("falls back to the apiKey in $HERALD_DATA_DIR/secrets.json", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "herald-cli-secrets-"))
    try {
      await writeFile(join(dataDir, "secrets.json"), JSON.stringify({ apiKey: "hk_app_x", adminKey: "a", tokenSecret: "t" }))
      const run = await herald(["token", "--user", "alice", "--url", deadUrl], { HERALD_DATA_DIR: dataDir })
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(/^herald: cannot reach /)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it("deadletters list takes the admin key from HERALD_ADMIN_KEY", async () => {
    const run = await herald(["deadletters", "list", "--json"], { HERALD_URL: deadUrl, HERALD_ADMIN_KEY: "k" })
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: cannot reach http:\/\/127\.0\.0\.1:1\b/)
  })

  it("deadletters list falls back to the adminKey in $HERALD_DATA_DIR/secrets.json", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "herald-cli-secrets-"))
    try {
      await writeFile(join(dataDir, "secrets.json"), JSON.stringify({ apiKey: "hk_app_x", adminKey: "a", tokenSecret: "t" }))
      const run = await herald(["deadletters", "list", "--url", deadUrl], { HERALD_DATA_DIR: dataDir })
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(/^herald: cannot reach /)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it.each([
    ["preview", []],
    ["preview", ["--json"]],
    ["send-now", []],
    ["send-now", ["--json"]]
  ])("digest %s %j to a URL nobody answers exits 1 with one 'cannot reach' line", async (command, extra) => {
    const run = await herald(["digest", command, "--user", "alice", "--url", deadUrl, "--admin-key", "x", ...extra])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: cannot reach http:\/\/127\.0\.0\.1:1\b/)
  })

  it("prefs set with digest flags fails the same way", async () => {
    const run = await herald([
      "prefs", "set", "--user", "alice", "--digest", "weekly", "--weekday", "monday", "--at", "08:30",
      "--time-zone", "Europe/London", "--digest-include-read", "true", "--api-key", "k", "--url", deadUrl
    ])
    expect(run.code).toBe(1)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: cannot reach http:\/\/127\.0\.0\.1:1\b/)
  })

  it.each([
    ["prefs", "get", "--user", "alice"],
    ["devices", "list", "--user", "alice"],
    ["devices", "add", "--user", "alice", "--token", "t1", "--platform", "ios"]
  ])("%s %s fails with one 'cannot reach' line and exit 1", async (...args) => {
    const run = await herald([...args, "--api-key", "k", "--url", deadUrl, "--json"])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: cannot reach http:\/\/127\.0\.0\.1:1\b/)
  })

  it("tail fails the same way before opening a socket", async () => {
    const run = await herald(["tail", "--user", "alice", "--api-key", "k", "--url", deadUrl, "--timeout", "5"])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^herald: cannot reach http:\/\/127\.0\.0\.1:1\b/)
  })
})
