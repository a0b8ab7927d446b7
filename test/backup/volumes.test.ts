import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"

import { MemoryHooks } from "../../layers/hooks/Memory.ts"
import type { BlockStore } from "../../services/BlockStore.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import type { BackupDeps } from "../../src/backup/run.ts"
import { runBackup } from "../../src/backup/run.ts"
import { readSnapshotRecords } from "../../src/volumes/records.ts"
import {
  addVolume,
  claim,
  ebsPersistentVolume,
  hostPathVolume,
  installLocations,
  locationStore,
  podWithClaims,
  seed,
  volumeDeps,
  volumesLayer
} from "../volumes/fixtures.ts"
import { makeBackup, readGzipText, storedKeys } from "./fixtures.ts"

/** db-0 uses claim data (pv-db); claim logs (pv-logs) is used by no pod; pv-spare is bound to nothing. */
const seedVolumes = Effect.gen(function*() {
  yield* installLocations("ebs")
  yield* addVolume("ebs", "vol-db", { iops: 3000 })
  yield* addVolume("ebs", "vol-logs")
  yield* addVolume("ebs", "vol-spare")
  yield* seed([
    ebsPersistentVolume("pv-db", "vol-db", { namespace: "app", name: "data" }),
    ebsPersistentVolume("pv-logs", "vol-logs", { namespace: "app", name: "logs" }),
    ebsPersistentVolume("pv-spare", "vol-spare"),
    claim("app", "data", "pv-db"),
    claim("app", "logs", "pv-logs"),
    podWithClaims("app", "db-0", ["data"], { labels: { app: "db" }, containers: ["db", "sidecar"] })
  ])
})

const snapshotsByPv = Effect.gen(function*() {
  const { control } = yield* locationStore("ebs")
  const snapshots = [...(yield* control.snapshots).values()]
  return new Map(snapshots.map((snapshot) => [snapshot.tags["ark.heptio.com/pv"] ?? "", snapshot]))
})

/** Runs the effect while moving the TestClock forward until it finishes (the tarball upload is real I/O). */
const withClockRunning = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "100 millis") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      yield* TestClock.adjust(step)
      yield* Effect.yieldNow()
    }
    return yield* Fiber.join(fiber)
  })

/** A provider whose snapshots take a second before and after the store records them. */
const slowSnapshots = Effect.gen(function*() {
  const inner = yield* BlockStoreProvider
  const provider: BlockStoreProvider["Type"] = {
    forLocation: (location) =>
      inner.forLocation(location).pipe(Effect.map((store): BlockStore.Shape => ({
        ...store,
        createSnapshot: (volumeId, zone, tags) =>
          Effect.sleep("1 second").pipe(
            Effect.zipRight(store.createSnapshot(volumeId, zone, tags)),
            Effect.tap(() => Effect.sleep("1 second"))
          )
      })))
  }
  return provider
})

describe("backup volume snapshots", () => {
  it.effect("snapshots every included PV (directly, via a PVC, via a pod) with tags, and records them", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      const backup = yield* runBackup(makeBackup({}), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.volumeSnapshotsAttempted, 3)
      assert.strictEqual(backup.status?.volumeSnapshotsCompleted, 3)
      const snapshots = yield* snapshotsByPv
      assert.deepStrictEqual([...snapshots.keys()].sort(), ["pv-db", "pv-logs", "pv-spare"])
      for (const [pv, snapshot] of snapshots) {
        assert.deepStrictEqual(snapshot.tags, { "ark.heptio.com/backup": "b1", "ark.heptio.com/pv": pv })
      }
      const records = yield* readSnapshotRecords("b1")
      const db = records.find((record) => record.pvName === "pv-db")
      assert.deepStrictEqual(db, {
        pvName: "pv-db",
        providerVolumeId: "vol-db",
        availabilityZone: "us-east-1a",
        volumeType: "gp3",
        iops: 3000,
        snapshotId: snapshots.get("pv-db")!.snapshotId,
        location: "ebs",
        phase: "Completed"
      })
      // The file is a plain gzipped JSON array.
      const text = yield* readGzipText(backupKeys("b1").volumeSnapshots)
      assert.strictEqual(JSON.parse(text).length, 3)
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("a PV reached only through an included pod's claim is snapshotted too", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      const backup = yield* runBackup(
        makeBackup({ includedNamespaces: ["app"], includedResources: ["pods"] }),
        yield* volumeDeps
      )
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.deepStrictEqual([...(yield* snapshotsByPv).keys()], ["pv-db"])
      assert.deepStrictEqual((yield* readSnapshotRecords("b1")).map((record) => record.pvName), ["pv-db"])
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("snapshotVolumes false takes no snapshot and writes no records", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      const backup = yield* runBackup(makeBackup({ snapshotVolumes: false }), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.volumeSnapshotsAttempted, undefined)
      assert.strictEqual((yield* snapshotsByPv).size, 0)
      assert.notInclude(yield* storedKeys, backupKeys("b1").volumeSnapshots)
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("a PV no location can snapshot is a warning naming it, not a silent skip", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      yield* seed([hostPathVolume("pv-host")])
      const backup = yield* runBackup(makeBackup({}), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.warnings, 1)
      const results = JSON.parse(yield* readGzipText(backupKeys("b1").results))
      assert.lengthOf(results.warnings.cluster, 1)
      assert.include(results.warnings.cluster[0], "persistentvolumes/pv-host")
      assert.include(results.warnings.cluster[0], "no volume snapshot location (ebs) can snapshot")
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("a named location that does not exist fails validation", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      const backup = yield* runBackup(makeBackup({ volumeSnapshotLocations: ["nowhere"] }), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "FailedValidation")
      assert.include(backup.status?.validationErrors?.[0] ?? "", `"nowhere" does not exist`)
      assert.deepStrictEqual(yield* storedKeys, [])
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("a failed snapshot is an error: PartiallyFailed, recorded as Failed", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      const { control } = yield* locationStore("ebs")
      yield* control.failOperation("createSnapshot", "SnapshotLimitExceeded")
      const backup = yield* runBackup(makeBackup({}), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "PartiallyFailed")
      assert.strictEqual(backup.status?.errors, 3)
      assert.strictEqual(backup.status?.volumeSnapshotsAttempted, 3)
      assert.strictEqual(backup.status?.volumeSnapshotsCompleted, 0)
      const records = yield* readSnapshotRecords("b1")
      assert.isTrue(records.every((record) => record.phase === "Failed" && record.error === "SnapshotLimitExceeded"))
    }).pipe(Effect.provide(volumesLayer())))
})

const freeze = ["/sbin/fsfreeze", "--freeze", "/data"]
const unfreeze = ["/sbin/fsfreeze", "--unfreeze", "/data"]

const annotated = (extra: Record<string, string> = {}) => ({
  "pre.hook.backup.ark.heptio.com/command": JSON.stringify(freeze),
  "post.hook.backup.ark.heptio.com/command": JSON.stringify(unfreeze),
  ...extra
})

describe("backup hooks", () => {
  it.effect("each pod's snapshot happens after its pre hook finished and before its post hook, pod after pod", () =>
    Effect.gen(function*() {
      yield* installLocations("ebs")
      for (const name of ["a", "b", "c"]) {
        yield* addVolume("ebs", `vol-${name}`)
        yield* seed([
          ebsPersistentVolume(`pv-${name}`, `vol-${name}`),
          claim("app", `data-${name}`, `pv-${name}`),
          podWithClaims("app", `db-${name}`, [`data-${name}`], { annotations: annotated() })
        ])
      }
      const hooks = yield* MemoryHooks
      yield* hooks.script({ command: freeze }, { takes: "5 seconds" })
      yield* hooks.script({ command: unfreeze }, { takes: "3 seconds" })
      const deps: BackupDeps = {
        ...(yield* volumeDeps),
        volumes: { blockStores: yield* slowSnapshots, hooks: (yield* volumeDeps).volumes!.hooks }
      }
      const backup = yield* withClockRunning(runBackup(makeBackup({ includedNamespaces: ["app"] }), deps))
      assert.strictEqual(backup.status?.phase, "Completed")
      const calls = yield* hooks.calls
      const snapshots = yield* snapshotsByPv
      const timeline = [
        ...calls.map((call) => ({
          what: `${call.command[1]} ${call.target.pod}`,
          at: call.startedAtMillis,
          end: call.startedAtMillis + (call.command[1] === "--freeze" ? 5000 : 3000)
        })),
        ...[...snapshots].map(([pv, snapshot]) => ({
          what: `snapshot ${pv}`,
          at: snapshot.createdAtMillis,
          end: snapshot.createdAtMillis
        }))
      ].sort((x, y) => x.at - y.at)
      assert.deepStrictEqual(timeline.map((event) => event.what), [
        "--freeze db-a",
        "snapshot pv-a",
        "--unfreeze db-a",
        "--freeze db-b",
        "snapshot pv-b",
        "--unfreeze db-b",
        "--freeze db-c",
        "snapshot pv-c",
        "--unfreeze db-c"
      ])
      // Strictly inside the window: the pre hook had ended, the post hook had not started.
      for (let i = 0; i < timeline.length; i += 3) {
        const [pre, snapshot, post] = [timeline[i]!, timeline[i + 1]!, timeline[i + 2]!]
        assert.isTrue(pre.end < snapshot.at && snapshot.at < post.at, JSON.stringify([pre, snapshot, post]))
      }
      assert.deepStrictEqual(calls.map((call) => call.target.container), [
        "main",
        "main",
        "main",
        "main",
        "main",
        "main"
      ])
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("spec hooks apply to the pods their namespace and label filters match; output goes to the log", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      yield* seed([
        podWithClaims("app", "web-0", [], { labels: { app: "web" } }),
        podWithClaims("other", "db-9", [], { labels: { app: "db" } })
      ])
      const hooks = yield* MemoryHooks
      yield* hooks.script({ command: ["sync"] }, { result: { stdout: "flushed 12 pages\n" } })
      const backup = yield* runBackup(
        makeBackup({
          includedNamespaces: ["app", "other"],
          hooks: {
            resources: [{
              name: "flush",
              includedNamespaces: ["app"],
              labelSelector: { matchLabels: { app: "db" } },
              pre: [{ exec: { container: "sidecar", command: ["sync"], timeout: "10s" } }],
              post: [{ exec: { command: ["echo", "done"] } }]
            }]
          }
        }),
        yield* volumeDeps
      )
      assert.strictEqual(backup.status?.phase, "Completed")
      const calls = yield* hooks.calls
      assert.deepStrictEqual(
        calls.map((
          call
        ) => [call.target.pod, call.target.container, call.command.join(" "), Duration.toMillis(call.timeout)]),
        [
          ["db-0", "sidecar", "sync", 10_000],
          ["db-0", "db", "echo done", 30_000]
        ]
      )
      const log = yield* readGzipText(backupKeys("b1").logs)
      assert.include(log, "flushed 12 pages")
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("a failing hook with onError Fail fails the backup, names hook and pod, runs the post hook, and deletes the snapshots", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      yield* seed([
        podWithClaims("app", "db-1", ["logs"], {
          annotations: annotated({ "post.hook.backup.ark.heptio.com/on-error": "Fail" })
        })
      ])
      const hooks = yield* MemoryHooks
      yield* hooks.script({ command: unfreeze }, { result: { exitCode: 2, stderr: "not frozen" } })
      const backup = yield* runBackup(makeBackup({}), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "Failed")
      assert.include(
        backup.status?.failureReason ?? "",
        `post hook "post.hook.backup.ark.heptio.com" in container main of pod app/db-1 failed: exit code 2`
      )
      assert.deepStrictEqual((yield* hooks.calls).map((call) => call.command[1]), ["--freeze", "--unfreeze"])
      // The snapshot taken inside the window belonged to a backup that never committed.
      assert.strictEqual((yield* snapshotsByPv).size, 0)
      assert.deepStrictEqual(yield* storedKeys, [])
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("a failing pre hook with onError Continue warns, the snapshot and post hook still happen", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      yield* seed([
        podWithClaims("app", "db-1", ["logs"], {
          annotations: annotated({ "pre.hook.backup.ark.heptio.com/on-error": "Continue" })
        })
      ])
      const hooks = yield* MemoryHooks
      yield* hooks.script({ command: freeze }, { result: { exitCode: 1 } })
      const backup = yield* runBackup(makeBackup({}), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.warnings, 1)
      assert.isTrue((yield* snapshotsByPv).has("pv-logs"))
      assert.deepStrictEqual((yield* hooks.calls).map((call) => call.command[1]), ["--freeze", "--unfreeze"])
      const results = JSON.parse(yield* readGzipText(backupKeys("b1").results))
      assert.include(
        results.warnings.namespaces.app[0],
        `pre hook "pre.hook.backup.ark.heptio.com" in container main of pod app/db-1 failed: exit code 1`
      )
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("a hook that hangs times out after its timeout and fails the backup by default", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      yield* seed([
        podWithClaims("app", "db-1", [], {
          annotations: {
            "pre.hook.backup.ark.heptio.com/command": "sleep-forever",
            "pre.hook.backup.ark.heptio.com/timeout": "10s"
          }
        })
      ])
      const hooks = yield* MemoryHooks
      yield* hooks.script({ command: ["sleep-forever"] }, { takes: "1 hour" })
      const backup = yield* withClockRunning(runBackup(makeBackup({}), yield* volumeDeps), "1 second")
      assert.strictEqual(backup.status?.phase, "Failed")
      assert.include(backup.status?.failureReason ?? "", "pod app/db-1 failed: timed out after 10s")
      assert.deepStrictEqual((yield* hooks.calls).map((call) => call.outcome), ["timedOut"])
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("a container the pod does not have is an error naming it, without an exec", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      yield* seed([
        podWithClaims("app", "db-1", [], {
          annotations: {
            "pre.hook.backup.ark.heptio.com/command": "true",
            "pre.hook.backup.ark.heptio.com/container": "fsfreeze"
          }
        })
      ])
      const backup = yield* runBackup(makeBackup({}), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "Failed")
      assert.include(backup.status?.failureReason ?? "", `container "fsfreeze" not found in pod app/db-1`)
      assert.lengthOf(yield* (yield* MemoryHooks).calls, 0)
    }).pipe(Effect.provide(volumesLayer())))

  it.effect("post hooks run even when the pod's snapshot failed", () =>
    Effect.gen(function*() {
      yield* seedVolumes
      yield* seed([podWithClaims("app", "db-1", ["logs"], { annotations: annotated() })])
      const { control } = yield* locationStore("ebs")
      yield* control.failOperation("createSnapshot", "throttled")
      const backup = yield* runBackup(makeBackup({}), yield* volumeDeps)
      assert.strictEqual(backup.status?.phase, "PartiallyFailed")
      assert.deepStrictEqual((yield* (yield* MemoryHooks).calls).map((call) => call.command[1]), [
        "--freeze",
        "--unfreeze"
      ])
    }).pipe(Effect.provide(volumesLayer())))
})
