import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

import { describe, expect, it } from "@effect/vitest"

import { ark, arkAsync, arkWithoutCluster } from "../support/arkProcess.ts"

/** The terms of a help section's two-column table: the first column of lines indented by two. */
const termsOf = (help: string, section: string): ReadonlyArray<{ term: string; text: string }> => {
  const lines = help.split("\n")
  const start = lines.indexOf(`${section}:`)
  if (start < 0) return []
  const rows: Array<{ term: string; text: string }> = []
  for (let i = start + 1; i < lines.length && lines[i]!.length > 0; i++) {
    const line = lines[i]!
    if (!/^ {2}\S/.test(line)) continue
    const [term = "", text] = line.trim().split(/ {3,}/)
    // A term too wide for its column has its description on the next line.
    rows.push({ term, text: text ?? lines[i + 1]?.trim() ?? "" })
  }
  return rows
}

// The command tree as `ark --help` lists it: every runnable command, and the groups above them.
const rootHelp = ark("--help").stdout
const commands = termsOf(rootHelp, "Commands").map(({ term }) => term)
const groups = [
  ...new Set(commands.filter((command) => command.includes(" ")).map((command) => command.split(" ")[0]!))
]

// What @effect/cli says of a flag whose own description is missing.
const placeholders = [/user-defined piece of text/i, /^A file\.?$/, /^One of the following/i, /^An integer/i]

describe("ark help", () => {
  it("backup create --help reads like kubectl's: usage, typed flags, defaults, no built-in noise", () => {
    const { status, stdout, stderr } = ark("backup", "create", "--help")
    expect(status).toBe(0)
    expect(stderr).toBe("")
    expect(stdout).toContain("Usage:\n  ark backup create NAME [flags]")
    expect(stdout).toMatch(/^ {6}--ttl DURATION +how long to keep the backup/m)
    expect(stdout).toMatch(/^ {2}-n, --namespace STRING +the namespace Ark's server runs in \(default:$/m)
    expect(stdout).toMatch(/^ {6}--snapshot-volumes true\|false /m)
    expect(stdout).toMatch(/^ {6}--include-namespaces LIST /m)
    for (const noise of ["--wizard", "--completions", "--log-level", "\u001b["]) expect(stdout).not.toContain(noise)
  })

  it("enums show their values and defaults", () => {
    const { status, stdout } = ark("server", "--help")
    expect(status).toBe(0)
    expect(stdout).toMatch(
      /--log-level debug\|info\|warning\|error\s+the least severe log messages to write \(default info\)/
    )
    expect(stdout).toMatch(/--gc-sync-period DURATION +how often to look for expired backups \(default 1h\)/)
  })

  it.each(["download", "verify"])("backup %s --help describes --identity-file once, in its own words", (command) => {
    const { status, stdout } = ark("backup", command, "--help")
    expect(status).toBe(0)
    expect(stdout.match(/an age identity file/g), stdout).toHaveLength(1)
    expect(stdout).not.toContain("to read an encrypted backup with")
  })

  it("the root lists every command, and a group without a subcommand shows its own", () => {
    expect(commands).toEqual(expect.arrayContaining(["backup create", "restore create", "server", "version"]))
    const { status, stdout } = ark("backup")
    expect(status).toBe(0)
    expect(termsOf(stdout, "Commands").map(({ term }) => term)).toEqual(
      expect.arrayContaining(["create", "get", "describe", "logs", "download", "delete"])
    )
  })

  it.each(["", ...groups, ...commands])(
    "help of \"ark %s\" is plain, fits 100 columns, describes every flag",
    async (command) => {
      const words = command.split(" ").filter((word) => word.length > 0)
      const { status, stdout } = await arkAsync(...words, "--help")
      expect(status).toBe(0)
      expect(stdout).toContain(`  ${["ark", ...words].join(" ")}`)
      expect(stdout).not.toContain("\u001b[")
      for (const line of stdout.split("\n")) expect(line.length, line).toBeLessThanOrEqual(100)
      const flags = termsOf(stdout, "Flags")
      expect(flags.map(({ term }) => term)).toContain("-h, --help")
      for (const { term, text } of flags) {
        expect(text, term).not.toBe("")
        for (const placeholder of placeholders) expect(text, term).not.toMatch(placeholder)
      }
      for (const builtIn of ["--wizard", "--completions"]) expect(stdout).not.toContain(builtIn)
      if (words[0] !== "server") expect(stdout).not.toContain("--log-level")
    }
  )
})

describe("ark did you mean", () => {
  it("a mistyped command names its parent and suggests the command", () => {
    const { status, stdout, stderr } = ark("backup", "craete")
    expect(status).not.toBe(0)
    expect(stdout).toBe("")
    expect(stderr).toBe(
      "error: unknown command \"craete\" for \"ark backup\"\nhint: did you mean \"create\"? (\"ark backup --help\" lists its commands)\n"
    )
  })

  it("a mistyped top-level command suggests the command", () => {
    const { status, stderr } = ark("shedule", "get")
    expect(status).not.toBe(0)
    expect(stderr).toContain("error: unknown command \"shedule\" for \"ark\"")
    expect(stderr).toContain("did you mean \"schedule\"?")
  })

  it("a mistyped flag suggests the flag, before any cluster is contacted", () => {
    const { status, stdout, stderr } = arkWithoutCluster("backup", "create", "nightly", "--include-namespace", "web")
    expect(status).not.toBe(0)
    expect(stdout).toBe("")
    expect(stderr).toBe(
      "error: unknown flag \"--include-namespace\" for \"ark backup create\"\nhint: did you mean \"--include-namespaces\"? (\"ark backup create --help\" lists its flags)\n"
    )
  })

  it("a value outside a flag's choices names them", () => {
    const { status, stderr } = arkWithoutCluster("backup", "get", "-o", "xml")
    expect(status).not.toBe(0)
    expect(stderr).toBe("error: invalid value \"xml\" for --output\nhint: use one of table, json, yaml\n")
  })

  it("a global flag @effect/cli would add is unknown to a command that does not declare it", () => {
    const { status, stderr } = arkWithoutCluster("backup", "get", "--log-level", "debug")
    expect(status).not.toBe(0)
    expect(stderr).toContain("error: unknown flag \"--log-level\" for \"ark backup get\"")
  })
})

/** The first line `ark server` writes, with no API server to reach; the server is stopped after it. */
const firstServerLine = (...flags: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) => {
    const kubeconfig = join(tmpdir(), `ark-help-kubeconfig-${process.pid}.yaml`)
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]",
        "users: [{name: u, user: {token: x}}]",
        "contexts: [{name: c, context: {cluster: c, user: u}}]",
        "current-context: c"
      ].join("\n")
    )
    const bin = fileURLToPath(new URL("../../bin/ark.mjs", import.meta.url))
    const child = spawn(
      process.execPath,
      [bin, "server", ...flags, "--kubeconfig", kubeconfig, "--metrics-address", "127.0.0.1:0"],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    const deadline = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error("ark server wrote nothing within 120 s"))
    }, 120_000)
    let output = ""
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      const newline = output.indexOf("\n")
      if (newline < 0) return
      clearTimeout(deadline)
      child.kill("SIGKILL")
      resolve(output.slice(0, newline))
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
  })

describe("ark server --log-level", () => {
  it.each([[["--log-level", "warning"]], [["--log-level=warning", "--restore-only"]], [[
    "--restore-only",
    "--log-level",
    "warning"
  ]]])(
    "%j holds back info messages wherever the flag stands",
    async (flags) => {
      const line = await firstServerLine(...flags)
      expect(JSON.parse(line)).toMatchObject({ logLevel: "WARN" })
    }
  )

  it("logs at info by default", async () => {
    const line = await firstServerLine()
    expect(JSON.parse(line)).toMatchObject({ logLevel: "INFO", message: "ark server starting" })
  })
})
