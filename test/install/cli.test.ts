// `ark install` through the real entry point, as a user runs it: exit codes, stderr, and a dry
// run that needs no cluster at all.
import { describe, expect, it } from "@effect/vitest"

import { arkWithoutCluster as ark } from "../support/arkProcess.ts"

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
      "error: unknown provider \"gcp\"\nhint: use --provider aws (any S3-compatible store) or --provider filesystem\n"
    )
  })
})
