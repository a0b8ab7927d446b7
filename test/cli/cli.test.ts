import { describe, expect, it } from "@effect/vitest"

import { ark, arkWithoutCluster } from "../support/arkProcess.ts"

describe("ark CLI", () => {
  it("--help lists every command", () => {
    const { status, stdout } = ark("--help")
    expect(status).toBe(0)
    const paths = [
      "backup create",
      "backup get",
      "backup describe",
      "backup logs",
      "backup download",
      "backup delete",
      "restore create",
      "restore get",
      "restore describe",
      "restore logs",
      "restore delete",
      "schedule create",
      "schedule get",
      "schedule describe",
      "schedule delete",
      "schedule pause",
      "schedule unpause",
      "backup-location create",
      "backup-location get",
      "snapshot-location create",
      "snapshot-location get",
      "server",
      "install",
      "version",
      "completion"
    ]
    for (const path of paths) expect(stdout, path).toMatch(new RegExp(`^  ${path}( |$)`, "m"))
  })

  it("version prints the package version", () => {
    const { status, stdout } = ark("version")
    expect(status).toBe(0)
    expect(stdout).toMatch(/^ark \d+\.\d+\.\d+/)
    expect(stdout).toContain("ark.heptio.com/v1")
  })

  it.each(["bash", "zsh", "fish"])("completion %s prints a script that asks ark for its candidates", (shell) => {
    const { status, stdout } = ark("completion", shell)
    expect(status).toBe(0)
    expect(stdout).toContain("ark __complete")
  })

  it("bad input to a delivered command is one line and a hint, before any cluster is contacted", () => {
    // No kubeconfig anywhere: the flags are checked before the first request would fail.
    const { status, stdout, stderr } = arkWithoutCluster("backup", "create", "nightly", "--ttl", "30d")
    expect(status).not.toBe(0)
    expect(stderr).toBe(
      "error: invalid --ttl \"30d\": expected a Go duration such as 72h, 30m or 1h30m\nhint: units are h, m, s, ms, us, ns (no days: 30 days is 720h)\n"
    )
    expect(stdout).toBe("")
  })

  it("a usage error exits non-zero", () => {
    const { status } = ark("backup", "create")
    expect(status).not.toBe(0)
  })
})
