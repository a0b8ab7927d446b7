// `ark server` flag handling through the real entry point: bad values fail fast with one clear line.
import { describe, expect, it } from "@effect/vitest"

import { ark } from "../support/arkProcess.ts"

describe("ark server flags", () => {
  it("rejects a sync period that is not a Go duration", () => {
    const { status, stderr } = ark("server", "--backup-sync-period", "5 days")
    expect(status).not.toBe(0)
    expect(stderr).toContain("error: --backup-sync-period: invalid duration \"5 days\"")
    expect(stderr).toContain("hint: use a Go duration")
  })

  it("rejects a backup concurrency below 1", () => {
    const { status, stderr } = ark("server", "--backup-concurrency", "0")
    expect(status).not.toBe(0)
    expect(stderr).toContain("--backup-concurrency must be a whole number of at least 1")
  })

  it("rejects a client QPS of 0 and a burst below 1", () => {
    const qps = ark("server", "--client-qps", "0")
    expect(qps.status).not.toBe(0)
    expect(qps.stderr).toContain("--client-qps must be a number above 0, got 0")
    const burst = ark("server", "--client-qps", "50", "--client-burst", "0")
    expect(burst.status).not.toBe(0)
    expect(burst.stderr).toContain("--client-burst must be a whole number of at least 1")
  })

  it("rejects --client-burst without --client-qps, with a hint", () => {
    const { status, stderr } = ark("server", "--client-burst", "100")
    expect(status).not.toBe(0)
    expect(stderr).toContain("--client-burst needs --client-qps")
    expect(stderr).toContain("hint: pass --client-qps too")
  })

  it("documents its flags", () => {
    const { status, stdout } = ark("server", "--help")
    expect(status).toBe(0)
    for (
      const flag of [
        "--restore-only",
        "--backup-sync-period",
        "--log-format",
        "--backup-concurrency",
        "--client-qps",
        "--client-burst",
        "--kubeconfig",
        "--namespace"
      ]
    ) {
      expect(stdout).toContain(flag)
    }
  })
})
