import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))

/** Runs the real `ark` entry point in a child process, as a user would. */
const ark = (...args: ReadonlyArray<string>) => {
  const run = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 60_000 })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe("ark CLI", () => {
  it("--help shows the whole command tree of SPEC section 8", () => {
    const { status, stdout } = ark("--help")
    expect(status).toBe(0)
    const paths = [
      "backup create", "backup get", "backup describe", "backup logs", "backup download", "backup delete",
      "restore create", "restore get", "restore describe", "restore logs", "restore delete",
      "schedule create", "schedule get", "schedule describe", "schedule delete", "schedule pause", "schedule unpause",
      "backup-location create", "backup-location get", "snapshot-location create", "snapshot-location get",
      "server", "install", "version", "completion"
    ]
    for (const path of paths) expect(stdout, path).toMatch(new RegExp(`^\\s*- ${path}( |$)`, "m"))
    for (const flag of ["--include-namespaces", "--namespace-mappings", "--existing-resource-policy", "--restore-only", "--schedule"]) {
      expect(stdout, flag).toContain(flag)
    }
  })

  it("version prints the package version", () => {
    const { status, stdout } = ark("version")
    expect(status).toBe(0)
    expect(stdout).toMatch(/^ark \d+\.\d+\.\d+/)
    expect(stdout).toContain("ark.heptio.com/v1")
  })

  it.each(["bash", "zsh", "fish"])("completion %s prints a script that knows the subcommands", (shell) => {
    const { status, stdout } = ark("completion", shell)
    expect(status).toBe(0)
    expect(stdout).toContain("backup")
    expect(stdout).toContain("snapshot-location")
  })

  it("an undelivered command says so plainly and exits non-zero", () => {
    const { status, stdout, stderr } = ark("backup", "create", "nightly", "--include-namespaces", "a,b")
    expect(status).not.toBe(0)
    expect(stderr).toContain("`ark backup create` is not implemented yet")
    expect(stderr).toContain("hint: it arrives with issue 4")
    expect(stdout).toBe("")
  })

  it("a usage error exits non-zero", () => {
    const { status } = ark("backup", "create")
    expect(status).not.toBe(0)
  })
})
