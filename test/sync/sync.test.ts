// syncLocation over the fake API server and fake buckets: imports, prunes, and every safety rule
// (unreachable store, failed or partial listing, foreign contents, empty location, Unavailable).
// Also the backup controller's side of an import: it never runs a Backup that sync created.
import { assert, describe, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Effect, Either, Layer, Logger, Option, TestClock } from "effect"

import { MemoryKube } from "../../layers/kube/Memory.ts"
import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import { KubeClient, KubeUnavailable } from "../../services/KubeClient.ts"
import * as BackupController from "../../src/server/controllers/backup.ts"
import { controllers } from "../../src/server/main.ts"
import { importedBackupAnnotation, storageIdentityAnnotation, storageLocationLabel } from "../../src/sync/markers.ts"
import { syncLocation } from "../../src/sync/run.ts"
import {
  backup,
  backups,
  installArk,
  locations,
  seedApp,
  serverNamespace,
  statusOf,
  waitForPhase
} from "../server/fixtures.ts"
import { waitFor } from "../support/wait.ts"
import {
  backupNames,
  bucket,
  clusterBackup,
  createLocation,
  deleteKey,
  here,
  marker,
  prefix,
  putBackup,
  putMarker,
  putText,
  readLocation,
  storedBackup,
  StoreFaults,
  syncLayer
} from "./fixtures.ts"

const getBackup = (name: string) => Effect.flatMap(KubeClient, (kube) => kube.get(backups, name, serverNamespace))

const lastSyncedTime = Effect.gen(function*() {
  const kube = yield* KubeClient
  return statusOf(yield* kube.get(locations, "default", serverNamespace))["lastSyncedTime"]
})

const syncDefault = Effect.flatMap(readLocation(), (location) => syncLocation(location))

const setup = (spec: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(Date.parse("2024-06-01T08:00:00Z"))
    yield* installArk
    yield* createLocation("default", spec)
    yield* putMarker()
  })

describe("syncLocation: import", () => {
  it.effect("imports a committed backup with its stored spec and status, and ignores an uncommitted directory", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* putBackup("nightly-20240501120000")
      yield* putBackup("half-written", { committed: false })

      const report = yield* syncDefault
      assert.deepStrictEqual(report.imported, ["nightly-20240501120000"])
      assert.deepStrictEqual(report.failed, [])
      assert.deepStrictEqual(yield* backupNames, ["nightly-20240501120000"])

      const stored = storedBackup("nightly-20240501120000")
      const imported = yield* getBackup("nightly-20240501120000")
      assert.deepStrictEqual(imported["spec"], stored.spec)
      assert.deepStrictEqual(statusOf(imported), stored.status)
      assert.strictEqual(imported.metadata.namespace, serverNamespace)
      assert.deepStrictEqual(imported.metadata.labels, {
        "ark.heptio.com/schedule-name": "nightly",
        [storageLocationLabel]: "default"
      })
      assert.deepStrictEqual(imported.metadata.annotations, {
        "example.com/owner": "team-a",
        [importedBackupAnnotation]: "true",
        [storageIdentityAnnotation]: JSON.stringify({ bucket, prefix, marker })
      })
      // This cluster's own bookkeeping, none of the old cluster's.
      assert.notStrictEqual(imported.metadata.uid, stored.metadata.uid)
      assert.notStrictEqual(imported.metadata.creationTimestamp, stored.metadata.creationTimestamp)
      for (const field of ["managedFields", "ownerReferences", "finalizers"]) {
        assert.notProperty(imported.metadata, field)
      }
      assert.strictEqual(yield* lastSyncedTime, "2024-06-01T08:00:00Z")
    }).pipe(Effect.provide(syncLayer)))

  it.effect("an imported Backup names the location it was found in", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* putBackup("migrated", { body: storedBackup("migrated", { storageLocation: "primary-us-east" }) })
      yield* syncDefault
      const imported = yield* getBackup("migrated")
      assert.strictEqual((imported["spec"] as Record<string, unknown>)["storageLocation"], "default")
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a second pass changes nothing", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* putBackup("nightly")
      yield* syncDefault
      const before = yield* getBackup("nightly")
      const report = yield* syncDefault
      assert.deepStrictEqual([report.imported, report.finished, report.pruned, report.skipped], [[], [], [], []])
      assert.strictEqual((yield* getBackup("nightly")).metadata.resourceVersion, before.metadata.resourceVersion)
    }).pipe(Effect.provide(syncLayer)))

  it.effect("an ark-backup.json that does not decode is a warning: not imported, and nothing deleted", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* putBackup("garbage", { body: "{ not json" })
      yield* putBackup("wrong-phase", { body: storedBackup("wrong-phase", { phase: "InProgress" }) })
      yield* putBackup("misnamed", { body: storedBackup("someone-else") })
      // A Backup of this cluster whose committed file is unreadable is still committed: kept.
      yield* clusterBackup("unreadable-here", "Completed")
      yield* putBackup("unreadable-here", { body: { apiVersion: "ark.heptio.com/v1", kind: "Backup", spec: 42 } })

      const report = yield* syncDefault
      assert.deepStrictEqual(report.imported, [])
      assert.deepStrictEqual(report.pruned, [])
      assert.deepStrictEqual(report.skipped.map((line) => line.split(":")[0]), ["garbage", "misnamed", "wrong-phase"])
      assert.include(report.skipped.join("\n"), "does not decode")
      assert.include(report.skipped.join("\n"), "its phase is InProgress")
      assert.deepStrictEqual(yield* backupNames, ["unreadable-here"])
      // Skipped files are not failures: the pass still counts as a sync.
      assert.strictEqual(yield* lastSyncedTime, "2024-06-01T08:00:00Z")
    }).pipe(Effect.provide(syncLayer)))

  it.effect("an import whose status write is interrupted is phase-less, and the next pass finishes it", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* putBackup("nightly")
      const control = yield* MemoryKube
      yield* control.failNext(
        "patchStatus",
        new KubeUnavailable({ resource: "backups", message: "etcd leader changed" })
      )

      const first = yield* syncDefault
      assert.deepStrictEqual(first.imported, [])
      assert.strictEqual(first.failed.length, 1)
      const halfway = yield* getBackup("nightly")
      assert.isUndefined(statusOf(halfway)["phase"])
      assert.strictEqual(halfway.metadata.annotations?.[importedBackupAnnotation], "true")
      assert.isUndefined(yield* lastSyncedTime, "a pass with a failed action is not a sync")

      const second = yield* syncDefault
      assert.deepStrictEqual(second.finished, ["nightly"])
      assert.deepStrictEqual(statusOf(yield* getBackup("nightly")), storedBackup("nightly").status)
      assert.strictEqual(yield* lastSyncedTime, "2024-06-01T08:00:00Z")
    }).pipe(Effect.provide(syncLayer)))
})

describe("syncLocation: prune", () => {
  it.effect("deletes finished Backups whose files are gone; keeps New/InProgress/Failed/Deleting ones and other locations'", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* createLocation("secondary", { objectStorage: { bucket: "secondary" } })
      yield* clusterBackup("present", "Completed")
      yield* putBackup("present", { body: storedBackup("present") })
      yield* clusterBackup("gone-completed", "Completed")
      yield* clusterBackup("gone-partial", "PartiallyFailed")
      yield* clusterBackup("gone-new", undefined)
      yield* clusterBackup("gone-new-phase", "New")
      yield* clusterBackup("gone-running", "InProgress")
      yield* clusterBackup("gone-failed", "Failed")
      yield* clusterBackup("gone-invalid", "FailedValidation")
      yield* clusterBackup("gone-deleting", "Deleting")
      yield* clusterBackup("gone-elsewhere", "Completed", "secondary")
      // Its files were removed by hand, ark-backup.json first (as a deletion does): uncommitted now.
      yield* clusterBackup("half-deleted", "Completed")
      yield* putBackup("half-deleted", { committed: false })

      const report = yield* syncDefault
      assert.deepStrictEqual([...report.pruned].sort(), ["gone-completed", "gone-partial", "half-deleted"])
      assert.deepStrictEqual(yield* backupNames, [
        "gone-deleting",
        "gone-elsewhere",
        "gone-failed",
        "gone-invalid",
        "gone-new",
        "gone-new-phase",
        "gone-running",
        "present"
      ])
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a backup deleted from storage after its import is pruned on the next pass", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* putBackup("keep")
      yield* putBackup("drop")
      yield* syncDefault
      assert.deepStrictEqual(yield* backupNames, ["drop", "keep"])
      yield* deleteKey("backups/drop/ark-backup.json")
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, ["drop"])
      assert.deepStrictEqual(yield* backupNames, ["keep"])
    }).pipe(Effect.provide(syncLayer)))
})

describe("syncLocation: storage identity", () => {
  const repoint = (prefixNow: string) =>
    Effect.flatMap(KubeClient, (kube) =>
      kube.patch(locations, "default", {
        type: "merge",
        body: { spec: { objectStorage: { bucket, prefix: prefixNow } } }
      }, serverNamespace))

  const syncMessage = Effect.gen(function*() {
    const kube = yield* KubeClient
    return statusOf(yield* kube.get(locations, "default", serverNamespace))["syncMessage"]
  })

  /** Twenty Backups this cluster wrote to cluster-a and has seen there. */
  const twentyBackups = Effect.gen(function*() {
    const names = Array.from({ length: 20 }, (_, i) => `nightly-${String(i).padStart(2, "0")}`)
    for (const name of names) {
      yield* clusterBackup(name, "Completed")
      yield* putBackup(name)
    }
    return names
  })

  const capture = () => {
    const messages: Array<string> = []
    const layer = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ message }) => {
        messages.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
      })
    )
    return { messages, layer }
  }

  it.effect("re-pointed at a prefix holding one unrelated backup: nothing pruned, the reason logged and in the status; pointing back changes nothing", () => {
    const logs = capture()
    return Effect.gen(function*() {
      yield* setup()
      const names = yield* twentyBackups
      yield* putMarker("marker-b", { prefix: "cluster-b" })
      yield* putBackup("unrelated", { prefix: "cluster-b" })
      const first = yield* syncDefault
      assert.deepStrictEqual([first.imported, first.pruned], [[], []])
      assert.isUndefined(yield* syncMessage)

      yield* repoint("cluster-b")
      const repointed = yield* syncDefault
      assert.deepStrictEqual(repointed.pruned, [])
      assert.deepStrictEqual(repointed.imported, ["unrelated"])
      const reason =
        "kept 20 Backup(s) whose files are missing from the location: 20 were stored in bucket ark prefix cluster-a (marker marker-a); the location points at bucket ark prefix cluster-b (marker marker-b) (re-pointed?)"
      assert.strictEqual(repointed.pruneBlocked, reason)
      assert.strictEqual(yield* syncMessage, reason)
      assert.include(logs.messages, `not pruning Backups: ${reason}`)
      assert.deepStrictEqual(yield* backupNames, [...names, "unrelated"].sort())
      // A second pass there does not change its mind.
      assert.deepStrictEqual((yield* syncDefault).pruned, [])

      yield* repoint(prefix)
      const back = yield* syncDefault
      assert.deepStrictEqual([back.imported, back.pruned], [[], []])
      assert.deepStrictEqual(yield* backupNames, [...names, "unrelated"].sort())
      // The one imported from cluster-b is not here, and not taken for deleted either.
      assert.include(yield* syncMessage, "1 were stored in bucket ark prefix cluster-b (marker marker-b)")
    }).pipe(Effect.provide(Layer.merge(syncLayer, logs.layer)))
  })

  it.effect("re-pointed at an empty prefix, or one whose marker differs: nothing pruned", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* twentyBackups
      yield* repoint("empty")
      assert.deepStrictEqual((yield* syncDefault).pruned, [])
      // The same prefix holding another marker (emptied and started again, or another store answering).
      yield* repoint(prefix)
      yield* putMarker("marker-new")
      yield* deleteKey("backups/nightly-00/ark-backup.json")
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, [])
      assert.include(report.pruneBlocked, "1 were stored in bucket ark prefix cluster-a (marker marker-a)")
      assert.strictEqual((yield* backupNames).length, 20)
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a backup really deleted from the prefix it was stored in is pruned, and the status message clears", () =>
    Effect.gen(function*() {
      yield* setup()
      const names = yield* twentyBackups
      yield* repoint("cluster-b")
      yield* syncDefault
      assert.isDefined(yield* syncMessage)
      yield* repoint(prefix)
      yield* deleteKey("backups/nightly-03/ark-backup.json")
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, ["nightly-03"])
      assert.isUndefined(report.pruneBlocked)
      assert.isUndefined(yield* syncMessage)
      assert.deepStrictEqual(yield* backupNames, names.filter((name) => name !== "nightly-03"))
      const kube = yield* KubeClient
      assert.deepStrictEqual(
        statusOf(yield* kube.get(locations, "default", serverNamespace))["storageIdentity"],
        here
      )
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a Backup from before identities is adopted while its files are here, then pruned like any other; one never seen here is kept", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* clusterBackup("legacy-here", "Completed", "default", null)
      yield* putBackup("legacy-here")
      yield* clusterBackup("legacy-gone", "Completed", "default", null)
      // Another backup stays, so the location is not taken for an emptied one.
      yield* putBackup("stays")
      const first = yield* syncDefault
      assert.deepStrictEqual(first.pruned, [])
      assert.include(first.pruneBlocked, "1 predate storage identities")
      const adopted = yield* getBackup("legacy-here")
      assert.strictEqual(
        adopted.metadata.annotations?.[storageIdentityAnnotation],
        JSON.stringify({ bucket, prefix, marker })
      )
      yield* deleteKey("backups/legacy-here/ark-backup.json")
      assert.deepStrictEqual((yield* syncDefault).pruned, ["legacy-here"])
      assert.deepStrictEqual(yield* backupNames, ["legacy-gone", "stays"])
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a prefix without a marker: nothing pruned, nothing adopted, and the status says why", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2024-06-01T08:00:00Z"))
      yield* installArk
      yield* createLocation("default")
      yield* clusterBackup("gone", "Completed")
      yield* clusterBackup("legacy", "Completed", "default", null)
      yield* putBackup("legacy")
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, [])
      assert.include(yield* syncMessage, "has no ark-location.json marker")
      assert.isUndefined((yield* getBackup("legacy")).metadata.annotations?.[storageIdentityAnnotation])
    }).pipe(Effect.provide(syncLayer)))
})

describe("syncLocation: safety", () => {
  /** One Completed Backup whose files are gone (prunable) and one committed backup to import. */
  const prunableAndImportable = Effect.gen(function*() {
    yield* clusterBackup("present", "Completed")
    yield* putBackup("present")
    yield* clusterBackup("gone", "Completed")
    yield* putBackup("to-import")
  })

  it.effect("an unreachable store: the pass fails, nothing deleted or imported, and the next one catches up", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* prunableAndImportable
      const stores = yield* MemoryObjectStores
      yield* stores.unreachable(bucket, "connection refused")

      const failed = yield* Effect.either(syncDefault)
      assert.isTrue(Either.isLeft(failed))
      assert.include(Either.getLeft(failed).pipe(Option.getOrThrow).message, "connection refused")
      assert.deepStrictEqual(yield* backupNames, ["gone", "present"])
      assert.isUndefined(yield* lastSyncedTime)

      yield* stores.reachable(bucket)
      const report = yield* syncDefault
      assert.deepStrictEqual([report.imported, report.pruned], [["to-import"], ["gone"]])
      assert.deepStrictEqual(yield* backupNames, ["present", "to-import"])
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a failed listing of backups/ (the top level listed fine): nothing deleted, nothing imported", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* prunableAndImportable
      const faults = yield* StoreFaults
      yield* faults.failList("backups/")
      const failed = yield* Effect.either(syncDefault)
      assert.include(Either.getLeft(failed).pipe(Option.getOrThrow).message, "listing the location failed")
      assert.deepStrictEqual(yield* backupNames, ["gone", "present"])

      yield* faults.heal
      yield* syncDefault
      assert.deepStrictEqual(yield* backupNames, ["present", "to-import"])
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a failed check of one directory: the listing is partial, so nothing is imported from it", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* prunableAndImportable
      yield* putBackup("another")
      const faults = yield* StoreFaults
      yield* faults.failExists("backups/present/ark-backup.json")
      assert.isTrue(Either.isLeft(yield* Effect.either(syncDefault)))
      assert.deepStrictEqual(yield* backupNames, ["gone", "present"])
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a location that cannot be opened: the pass fails and touches nothing", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* prunableAndImportable
      const stores = yield* MemoryObjectStores
      yield* stores.rejectLocation(bucket, "secret cloud-credentials has no key cloud")
      assert.include(
        Either.getLeft(yield* Effect.either(syncDefault)).pipe(Option.getOrThrow).message,
        "cannot open its store"
      )
      assert.deepStrictEqual(yield* backupNames, ["gone", "present"])
    }).pipe(Effect.provide(syncLayer)))

  it.effect("foreign contents at the prefix: nothing pruned, valid backups still imported", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* prunableAndImportable
      yield* putText("photos/2024/beach.jpg", "jpeg")
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, [])
      assert.deepStrictEqual(report.imported, ["to-import"])
      assert.include(report.pruneBlocked, "photos/")
      assert.deepStrictEqual(yield* backupNames, ["gone", "present", "to-import"])
    }).pipe(Effect.provide(syncLayer)))

  it.effect("a file at the top of the prefix is foreign too", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* prunableAndImportable
      yield* putText("terraform.tfstate", "{}")
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, [])
      assert.include(report.pruneBlocked, "terraform.tfstate")
    }).pipe(Effect.provide(syncLayer)))

  it.effect("restores/ beside backups/ is Ark's own: pruning goes ahead", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* prunableAndImportable
      yield* putText("restores/r1/restore-r1-logs.gz", "logs")
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, ["gone"])
      assert.isUndefined(report.pruneBlocked)
    }).pipe(Effect.provide(syncLayer)))

  it.effect("an empty location while the cluster has Completed backups in it: nothing pruned (a probable wrong prefix)", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* clusterBackup("first", "Completed")
      yield* clusterBackup("second", "PartiallyFailed")
      yield* putBackup("never-finished", { committed: false })
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, [])
      assert.include(report.pruneBlocked, "holds no backups")
      assert.deepStrictEqual(yield* backupNames, ["first", "second"])
    }).pipe(Effect.provide(syncLayer)))

  it.effect("an Unavailable location: nothing pruned", () =>
    Effect.gen(function*() {
      yield* setup()
      yield* prunableAndImportable
      const kube = yield* KubeClient
      yield* kube.patchStatus(locations, "default", {
        type: "merge",
        body: { status: { phase: "Unavailable", message: "timeout" } }
      }, serverNamespace)
      const report = yield* syncDefault
      assert.deepStrictEqual(report.pruned, [])
      assert.include(report.pruneBlocked, "Unavailable")
      assert.deepStrictEqual(yield* backupNames, ["gone", "present", "to-import"])
    }).pipe(Effect.provide(syncLayer)))
})

/** The backup controller and the sync controller together, as `ark server` runs them. */
const startServer = (syncPeriod: Duration.DurationInput = "1 hour") =>
  Layer.build(
    controllers({
      namespace: serverNamespace,
      restoreOnly: false,
      backupConcurrency: 1,
      locationValidationPeriod: "1 hour",
      backupSyncPeriod: syncPeriod
    })
  )

describe("the backup controller and imported Backups", () => {
  it.scopedLive(
    "leaves a phase-less imported Backup alone: no backup attempt, no Failed status",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* installArk
        yield* seedApp("shop", 1)
        yield* createLocation("default")
        yield* putBackup("imported")
        // An import cut short after the create: exactly what the controller sees in that window.
        const control = yield* MemoryKube
        yield* control.failNext(
          "patchStatus",
          new KubeUnavailable({ resource: "backups", message: "etcd leader changed" })
        )
        yield* syncDefault
        const halfway = yield* getBackup("imported")
        assert.deepStrictEqual(statusOf(halfway), {})

        // The backup controller alone: `controllers` includes sync, which would finish the import.
        yield* Layer.build(BackupController.layer({ namespace: serverNamespace, concurrency: 1 }))
        // A Backup created after it runs to the end under the same single permit: by then the
        // controller has seen the imported one and, were it to run it, would have failed it.
        yield* kube.create(backups, backup("after", { includedNamespaces: ["shop"] }))
        assert.strictEqual(statusOf(yield* waitForPhase(backups, "after", "Completed", "Failed"))["phase"], "Completed")
        const untouched = yield* getBackup("imported")
        assert.deepStrictEqual(statusOf(untouched), {})
        assert.strictEqual(untouched.metadata.resourceVersion, halfway.metadata.resourceVersion)
        const stores = yield* MemoryObjectStores
        const listing = yield* (yield* stores.store(bucket, "cluster-a")).list("backups/imported/")
        assert.deepStrictEqual(listing.objects.map((object) => object.key).sort(), [
          "backups/imported/ark-backup.json",
          "backups/imported/imported-logs.gz",
          "backups/imported/imported.tar.gz"
        ])
      }).pipe(Effect.provide(syncLayer))
  )

  it.scopedLive(
    "a server with sync imports a backup and the backup controller never runs it",
    () =>
      Effect.gen(function*() {
        yield* installArk
        yield* createLocation("default")
        yield* putBackup("from-elsewhere")
        yield* startServer()
        const imported = yield* waitFor(
          "from-elsewhere imported with a phase",
          getBackup("from-elsewhere").pipe(
            Effect.map((object) => Option.some(object).pipe(Option.filter((o) => statusOf(o)["phase"] !== undefined))),
            Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none()))
          ),
          "60 seconds"
        )
        assert.deepStrictEqual(statusOf(imported), storedBackup("from-elsewhere").status)
        // Still Completed once the backup controller has handled a later Backup.
        const kube = yield* KubeClient
        yield* kube.create(backups, backup("later", { storageLocation: "nowhere" }))
        yield* waitForPhase(backups, "later", "FailedValidation")
        const after = yield* getBackup("from-elsewhere")
        assert.strictEqual(after.metadata.resourceVersion, imported.metadata.resourceVersion)
        assert.strictEqual(statusOf(after)["phase"], "Completed")
      }).pipe(Effect.provide(syncLayer))
  )
})
