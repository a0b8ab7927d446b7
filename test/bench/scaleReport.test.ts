import { assert, describe, it } from "@effect/vitest"

import { formatScaleTable, histogramTotals, settledConcurrency } from "../../bench/scaleReport.ts"

const page = `# HELP ark_backup_duration_seconds how long backups ran, start to final phase
# TYPE ark_backup_duration_seconds histogram
ark_backup_duration_seconds_bucket{schedule="",le="0.5"} 0
ark_backup_duration_seconds_bucket{schedule="",le="+Inf"} 2
ark_backup_duration_seconds_sum{schedule=""} 1.25
ark_backup_duration_seconds_count{schedule=""} 2
ark_backup_duration_seconds_sum{schedule="nightly"} 10
ark_backup_duration_seconds_count{schedule="nightly"} 1
ark_backup_duration_seconds_sum_total 99
ark_restore_duration_seconds_sum{schedule=""} 7
ark_restore_duration_seconds_count{schedule=""} 3
`

const row = {
  objects: 2002,
  rawListPerSecond: 10000,
  backupFilesystemPerSecond: 9500,
  backupS3PerSecond: 8000,
  plainCreatesPerSecond: 400,
  restorePerSecond: 380,
  peakRssMiB: 250.4,
  idleRssMiB: { before: 110, after: 119.6 }
}

describe("bench scale report", () => {
  it("sums a histogram's sum and count over its series, and nothing else", () => {
    assert.deepStrictEqual(histogramTotals(page, "ark_backup_duration_seconds"), { sum: 11.25, count: 3 })
    assert.deepStrictEqual(histogramTotals(page, "ark_restore_duration_seconds"), { sum: 7, count: 3 })
    assert.deepStrictEqual(histogramTotals(page, "ark_missing"), { sum: 0, count: 0 })
  })

  it("prints one aligned row per size with its ratios, and the goals", () => {
    const lines = formatScaleTable([row]).split("\n")
    assert.lengthOf(lines, 3)
    assert.strictEqual(lines[0]?.length, lines[1]?.length)
    assert.deepStrictEqual(lines[1]?.trim().split(/\s+/), [
      "2002",
      "10000",
      "9500",
      "0.95",
      "8000",
      "0.80",
      "400",
      "380",
      "0.95",
      "250",
      "110/120"
    ])
    assert.notInclude(lines[0], "concurrency")
    assert.include(lines[2], "≤ 256 MiB")
  })

  it("shows the restore concurrency column only when a server logged one", () => {
    const lines = formatScaleTable([row, { ...row, restoreConcurrency: "48" }]).split("\n")
    assert.include(lines[0], "restore concurrency")
    assert.strictEqual(lines[1]?.trim().split(/\s+/).at(-1), "-")
    assert.strictEqual(lines[2]?.trim().split(/\s+/).at(-1), "48")
  })
})

describe("the restore concurrency a server logged", () => {
  it("is read from the finished line's message, or an annotation, or is absent", () => {
    assert.strictEqual(
      settledConcurrency({
        message: "restore finished: Completed, concurrency settled at 24 (peak 32, 3 requests throttled)"
      }),
      "24 (peak 32)"
    )
    assert.strictEqual(
      settledConcurrency({ message: "restore finished: Completed", annotations: { concurrency: 12 } }),
      "12"
    )
    assert.isUndefined(settledConcurrency({ message: "restore finished: Completed", annotations: { resource: "a/b" } }))
  })
})
