// `ark install` through the real entry point, as a user runs it: exit codes, stderr, and a dry
// run that needs no cluster at all.
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))

/** No kubeconfig anywhere: nothing here may need a cluster. */
const ark = (...args: ReadonlyArray<string>) => {
  const { KUBECONFIG: _kubeconfig, ...env } = process.env
  const run = spawnSync(process.execPath, [main, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...env, HOME: mkdtempSync(join(tmpdir(), "ark-home-")) }
  })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe("ark install (entry point)", () => {
  it("--dry-run lists what would be installed without a cluster", () => {
    const { status, stdout, stderr } = ark("install", "--dry-run", "--restore-only")
    expect(stderr).toBe("")
    expect(status).toBe(0)
    expect(stdout).toContain("CustomResourceDefinition backups.ark.heptio.com\n")
    expect(stdout).toContain("Deployment heptio-ark/ark\n")
    expect(stdout).not.toContain("ark-backup")
  })

  it("bad input is one line and a hint on stderr, and a non-zero exit", () => {
    const { status, stdout, stderr } = ark("install", "--provider", "gcp", "--bucket", "b")
    expect(status).not.toBe(0)
    expect(stdout).toBe("")
    expect(stderr).toBe(
      'error: unknown provider "gcp"\nhint: use --provider aws (any S3-compatible store) or --provider filesystem\n'
    )
  })
})
