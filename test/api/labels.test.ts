// A resource name as a label value (63 characters at most), and the lookups that select by the
// label and confirm by the full name, on the in-memory API server.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import {
  backupNameLabel,
  legacyScheduleNameLabel,
  nameLabelValue,
  nameMarkers,
  nameOf,
  nameSelector,
  namesIt,
  scheduleMarkers,
  scheduleNameLabel,
  withMarkers
} from "../../src/api/index.ts"
import { scheduleBackups } from "../../src/cli/schedule/kube.ts"
import { labelValueProblem } from "../../src/kube/labelSelector.ts"
import { latestScheduledBackup } from "../../src/server/controllers/restoreSource.ts"
import { backups, installArk, serverNamespace } from "../server/fixtures.ts"

const valid = (value: string) => assert.isUndefined(labelValueProblem(value), value)

describe("nameLabelValue", () => {
  it("keeps a name of up to 63 characters as it is", () => {
    for (const name of ["a", "nightly", "a".repeat(63), `${"a".repeat(31)}.${"b".repeat(31)}`]) {
      assert.strictEqual(nameLabelValue(name), name)
    }
  })

  it("shortens a longer name to at most 63 characters: its beginning, then a hash of the whole", () => {
    for (
      const name of ["a".repeat(64), "x".repeat(253), `${"a".repeat(53)}-.-${"b".repeat(40)}`, "a.".repeat(48) + "z"]
    ) {
      const value = nameLabelValue(name)
      assert.isAtMost(value.length, 63, name)
      assert.match(value, /^[a-z0-9][-a-z0-9.]*-[0-9a-f]{8}$/)
      valid(value)
      assert.isTrue(name.startsWith(value.slice(0, value.length - 9)), name)
    }
    assert.lengthOf(nameLabelValue("a".repeat(64)), 63)
    assert.lengthOf(nameLabelValue("x".repeat(253)), 63)
  })

  it("is stable, and tells apart names that share their first 63 characters", () => {
    const base = "b".repeat(96)
    assert.strictEqual(nameLabelValue(base), nameLabelValue("b".repeat(96)))
    // Pinned (FNV-1a 32, computed apart): labels already written must keep matching after an upgrade.
    assert.strictEqual(nameLabelValue("a".repeat(64)), `${"a".repeat(54)}-d96f0f85`)
    const values = new Set(Array.from({ length: 200 }, (_, i) => nameLabelValue(`${base}-${i}`)))
    assert.strictEqual(values.size, 200)
  })
})

describe("name markers", () => {
  it("a short name: only the label; a long one: the label value and the full name as an annotation", () => {
    assert.deepStrictEqual(nameMarkers({ [backupNameLabel]: "b1" }), {
      labels: { [backupNameLabel]: "b1" },
      annotations: {}
    })
    const long = "l".repeat(100)
    assert.deepStrictEqual(nameMarkers({ [backupNameLabel]: long }), {
      labels: { [backupNameLabel]: nameLabelValue(long) },
      annotations: { [backupNameLabel]: long }
    })
  })

  it("schedules: both labels, the full name under Ark's key only", () => {
    const long = "s".repeat(120)
    assert.deepStrictEqual(scheduleMarkers(long), {
      labels: { [scheduleNameLabel]: nameLabelValue(long), [legacyScheduleNameLabel]: nameLabelValue(long) },
      annotations: { [scheduleNameLabel]: long }
    })
  })

  it("withMarkers merges into metadata and adds no empty annotations", () => {
    assert.deepStrictEqual(withMarkers({ name: "x", labels: { a: "1" } }, nameMarkers({ [backupNameLabel]: "b" })), {
      name: "x",
      labels: { a: "1", [backupNameLabel]: "b" }
    })
    const long = "l".repeat(70)
    assert.deepStrictEqual(
      withMarkers({ name: "x", annotations: { n: "1" } }, nameMarkers({ [backupNameLabel]: long })),
      {
        name: "x",
        labels: { [backupNameLabel]: nameLabelValue(long) },
        annotations: { n: "1", [backupNameLabel]: long }
      }
    )
  })

  it("namesIt and nameOf: the label must be the name's value and the full name must agree", () => {
    const long = "l".repeat(70)
    const marked = (names: Record<string, string>, extra: Record<string, string> = {}): KubeObject => {
      const metadata = withMarkers({ name: "o" }, nameMarkers(names))
      return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { ...metadata, labels: { ...metadata.labels, ...extra } }
      }
    }
    assert.isTrue(namesIt(marked({ [backupNameLabel]: "short" }), backupNameLabel, "short"))
    assert.isTrue(namesIt(marked({ [backupNameLabel]: long }), backupNameLabel, long))
    assert.strictEqual(nameOf(marked({ [backupNameLabel]: long }), backupNameLabel), long)
    // Another long name with the same label value (a hash collision) is not this one.
    const impostor: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "o",
        labels: { [backupNameLabel]: nameLabelValue(long) },
        annotations: { [backupNameLabel]: `${long}-other` }
      }
    }
    assert.isFalse(namesIt(impostor, backupNameLabel, long))
    // A long name's label without the annotation does not confirm it.
    const unannotated: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "o", labels: { [backupNameLabel]: nameLabelValue(long) } }
    }
    assert.isFalse(namesIt(unannotated, backupNameLabel, long))
    assert.strictEqual(nameSelector(backupNameLabel, long), `${backupNameLabel}=${nameLabelValue(long)}`)
  })
})

describe("lookups of a long schedule's backups, on the in-memory API server", () => {
  const longSchedule = `${"s".repeat(100)}.nightly`
  const scheduledBackup = (name: string, schedule: string, annotations: Record<string, string> = {}) =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const metadata = withMarkers({ name, namespace: serverNamespace }, scheduleMarkers(schedule))
      const created = yield* kube.create(backups, {
        apiVersion: "ark.heptio.com/v1",
        kind: "Backup",
        metadata: { ...metadata, annotations: { ...metadata.annotations, ...annotations } },
        spec: {}
      })
      yield* kube.updateStatus(backups, {
        ...created,
        status: { phase: "Completed", completionTimestamp: `2024-05-01T00:0${name.slice(-1)}:00Z` }
      })
    })

  it.effect("restore --from-schedule and `ark schedule describe` find its backups, and not an impostor's", () =>
    Effect.gen(function*() {
      yield* installArk
      yield* scheduledBackup("mine-1", longSchedule)
      yield* scheduledBackup("mine-2", longSchedule)
      // Same label value, another schedule's full name: newer, and not this schedule's.
      yield* scheduledBackup("impostor-9", longSchedule, { [scheduleNameLabel]: `${longSchedule}-other` })
      yield* scheduledBackup("short-5", "short")

      const latest = yield* latestScheduledBackup(longSchedule, serverNamespace)
      assert.deepStrictEqual(latest._tag === "Some" ? latest.value : undefined, "mine-2")
      const listed = yield* scheduleBackups(longSchedule, serverNamespace)
      assert.sameMembers(listed.map((backup) => backup.metadata.name ?? ""), ["mine-1", "mine-2"])
      const short = yield* latestScheduledBackup("short", serverNamespace)
      assert.deepStrictEqual(short._tag === "Some" ? short.value : undefined, "short-5")
    }).pipe(Effect.provide(MemoryKube.layer)))
})
