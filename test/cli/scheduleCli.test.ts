// `ark schedule` through the real entry point: bad input is one line and a hint, before any
// cluster is contacted, with a non-zero exit.
import { describe, expect, it } from "@effect/vitest"

import { arkWithoutCluster } from "../support/arkProcess.ts"

describe("ark schedule (CLI)", () => {
  it("a 6-field cron is refused with the reason and a hint", () => {
    const { status, stdout, stderr } = arkWithoutCluster("schedule", "create", "nightly", "--schedule", "0 0 */6 * * *")
    expect(status).not.toBe(0)
    expect(stderr).toBe(
      "error: invalid --schedule \"0 0 */6 * * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 6: a seconds field is not supported\n" +
        "hint: use 5 fields (minute hour day-of-month month day-of-week) such as \"0 */6 * * *\", or @hourly, @daily, @weekly, @monthly, @yearly, or \"@every 6h\" (times are UTC)\n"
    )
    expect(stdout).toBe("")
  })

  it("a valid schedule gets as far as the cluster, which is missing here", () => {
    const { status, stderr } = arkWithoutCluster("schedule", "create", "nightly", "--schedule", "@every 6h")
    expect(status).not.toBe(0)
    // Its first request looks for the location marked default, since it names none.
    expect(stderr).toMatch(/^error: cannot list backup storage locations: .*no kubeconfig found/)
  })
})
