import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Either, Option } from "effect"

import type { Backup } from "../../src/api/index.ts"
import {
  backupRow,
  backupTable,
  describeBackup,
  expirationOf,
  isFinished,
  outcomeLine,
  progressLine
} from "../../src/cli/backup/view.ts"
import { formatTime, renderDocument, renderTable, shortHumanDuration, timeFromNow } from "../../src/cli/render.ts"

const now = DateTime.unsafeMake("2024-05-10T12:00:00Z")

const backup = (overrides: Partial<Backup> = {}): Backup => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Backup",
  metadata: { name: "nightly", namespace: "heptio-ark", creationTimestamp: "2024-05-10T11:00:00Z" },
  spec: {
    includedNamespaces: ["*"],
    includedResources: ["*"],
    snapshotVolumes: true,
    ttl: "720h",
    storageLocation: "default"
  },
  ...overrides
})

describe("render", () => {
  it("pads columns to the widest cell, three spaces apart, no trailing blanks", () => {
    assert.strictEqual(
      renderTable(["NAME", "STATUS"], [["a", "Completed"], ["longer-name", "New"]]),
      ["NAME          STATUS", "a             Completed", "longer-name   New"].join("\n")
    )
  })

  it("prints one object as itself and several as a v1 List", () => {
    assert.strictEqual(
      renderDocument("yaml", [{ kind: "Backup", metadata: { name: "a" } }], true),
      "kind: Backup\nmetadata:\n  name: a"
    )
    assert.strictEqual(
      renderDocument("yaml", [{ name: "a" }, { name: "b" }], false),
      "apiVersion: v1\nkind: List\nitems:\n  - name: a\n  - name: b"
    )
    assert.deepStrictEqual(JSON.parse(renderDocument("json", [], false)), { apiVersion: "v1", kind: "List", items: [] })
  })

  it("leaves managedFields out of JSON and YAML unless asked for", () => {
    const written = {
      kind: "Backup",
      metadata: { name: "a", managedFields: [{ manager: "ark", operation: "Update" }] },
      spec: {}
    }
    assert.strictEqual(renderDocument("yaml", [written], true), "kind: Backup\nmetadata:\n  name: a\nspec: {}")
    assert.deepStrictEqual(JSON.parse(renderDocument("json", [written, written], false)).items, [
      { kind: "Backup", metadata: { name: "a" }, spec: {} },
      { kind: "Backup", metadata: { name: "a" }, spec: {} }
    ])
    assert.deepStrictEqual(JSON.parse(renderDocument("json", [written], true, true)), written)
    assert.include(renderDocument("yaml", [written], true, true), "manager: ark")
  })

  it("formats times and durations as Velero does", () => {
    assert.strictEqual(formatTime("2024-05-01T08:09:10Z"), "2024-05-01 08:09:10 +0000 UTC")
    assert.strictEqual(formatTime(undefined), "<n/a>")
    const cases: ReadonlyArray<readonly [Duration.DurationInput, string]> = [
      ["45 seconds", "45s"],
      ["12 minutes", "12m"],
      ["5 hours", "5h"],
      ["29 days", "29d"],
      ["800 days", "2y"]
    ]
    for (const [input, expected] of cases) assert.strictEqual(shortHumanDuration(Duration.decode(input)), expected)
    assert.strictEqual(timeFromNow("2024-06-09T12:00:00Z", now), "30d")
    assert.strictEqual(timeFromNow("2024-05-10T09:00:00Z", now), "3h ago")
    assert.strictEqual(timeFromNow(undefined, now), "n/a")
  })
})

describe("backup views", () => {
  it("a New backup: expiry from creation + ttl, no selector", () => {
    assert.strictEqual(expirationOf(backup()), "2024-06-09T11:00:00Z")
    assert.deepStrictEqual(backupRow(backup(), now), [
      "nightly",
      "New",
      "2024-05-10 11:00:00 +0000 UTC",
      "29d",
      "default",
      "<none>"
    ])
  })

  it("the table: Velero's columns, status expiry and the selector string", () => {
    const done = backup({
      spec: { ...backup().spec, labelSelector: { matchLabels: { app: "web" } }, storageLocation: "minio" },
      status: { phase: "Completed", expiration: "2024-05-11T12:00:00Z" }
    })
    assert.strictEqual(
      backupTable([done], now),
      [
        "NAME      STATUS      CREATED                         EXPIRES   STORAGE LOCATION   SELECTOR",
        "nightly   Completed   2024-05-10 11:00:00 +0000 UTC   1d        minio              app=web"
      ].join("\n")
    )
  })

  it("progress lines follow the phase", () => {
    assert.match(progressLine(backup()), /^phase New: waiting for the Ark server/)
    assert.strictEqual(
      progressLine(backup({ status: { phase: "InProgress", progress: { totalItems: 500, itemsBackedUp: 120 } } })),
      "items backed up: 120/500"
    )
    assert.strictEqual(
      progressLine(backup({ status: { phase: "InProgress", progress: { itemsBackedUp: 10 } } })),
      "items backed up: 10 (total not known yet)"
    )
    assert.strictEqual(
      progressLine(backup({ status: { phase: "InProgress" } })),
      "items backed up: 0 (total not known yet)"
    )
    assert.isFalse(isFinished("InProgress"))
    assert.isFalse(isFinished(undefined))
    assert.isTrue(isFinished("PartiallyFailed"))
  })

  it("the outcome names the phase, counts, and every validation error", () => {
    assert.strictEqual(
      outcomeLine(
        backup({ status: { phase: "PartiallyFailed", progress: { itemsBackedUp: 9 }, warnings: 1, errors: 2 } })
      ),
      "Backup \"nightly\" PartiallyFailed (9 items, 1 warnings, 2 errors)"
    )
    assert.strictEqual(
      outcomeLine(
        backup({ status: { phase: "FailedValidation", validationErrors: ["unknown resource foo", "bad ttl"] } })
      ),
      "Backup \"nightly\" failed validation:\n  - unknown resource foo\n  - bad ttl"
    )
  })

  it("describe shows spec, status, consistency, and the resource list with --details", () => {
    const done = backup({
      status: {
        phase: "Completed",
        progress: { totalItems: 3, itemsBackedUp: 3 },
        resourceVersion: "4711",
        consistency: "Exact",
        warnings: 1,
        errors: 0
      }
    })
    const text = describeBackup(
      done,
      now,
      Option.some(Either.right({ "v1/Pod": ["shop/web-0"], "apps/v1/Deployment": ["shop/web"] }))
    )
    for (
      const line of [
        "Name:         nightly",
        "Phase:  Completed",
        "  Included:  *",
        "Storage Location:           default",
        "TTL:                        720h (30d)",
        "Items backed up:   3 of 3",
        "Resource version:  4711 (consistency: Exact)",
        "Warnings:          1",
        "Resource List:\n  apps/v1/Deployment:\n    - shop/web\n  v1/Pod:\n    - shop/web-0"
      ]
    ) assert.include(text, line)
    assert.include(describeBackup(done, now, Option.none()), "Resource List:  <use --details")
    assert.include(
      describeBackup(done, now, Option.some(Either.left("no file"))),
      "Resource List:  <not available: no file>"
    )
  })
})
