// Deleting backups through DeleteBackupRequests, on the fake API server, buckets and block stores
// with the TestClock: TTL expiry end to end, retries after a failed snapshot deletion, refusals,
// and the deletion core's order.
import { assert, describe, it } from "@effect/vitest"
import type { Scope } from "effect"
import { Context, Duration, Effect, Layer, Option, TestClock } from "effect"

import * as MemoryBlockStores from "../../layers/blockstore/MemoryProvider.ts"
import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { backupNameLabel } from "../../src/api/index.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { deleteBackup } from "../../src/deletion/backup.ts"
import { newDeleteBackupRequest } from "../../src/deletion/requests.ts"
import * as BackupDeletionController from "../../src/server/controllers/backupDeletion.ts"
import * as GcController from "../../src/server/controllers/gc.ts"
import {
  deletionLayer,
  exists,
  installLocation,
  keysIn,
  requests,
  requestsOf,
  restores,
  seedBackup,
  snapshotsIn,
  statusOf,
  waitAdvancing,
  when
} from "../gc/fixtures.ts"
import { backups, installArk, memoryLayer, serverNamespace } from "./fixtures.ts"

const start = Date.parse("2024-05-01T12:00:00Z")

const startDeletion = Layer.build(BackupDeletionController.layer({ namespace: serverNamespace }))

const submit = (backup: string) =>
  Effect.flatMap(KubeClient, (kube) => kube.create(requests, newDeleteBackupRequest(backup, serverNamespace)))

/** The request once its status satisfies `done`. */
const requestWhen = (
  request: KubeObject,
  what: string,
  done: (status: Record<string, unknown>) => boolean,
  step: Duration.DurationInput = "0 millis",
  limit?: Duration.DurationInput
) =>
  waitAdvancing(
    `request ${request.metadata.name ?? ""} ${what}`,
    Effect.flatMap(KubeClient, (kube) => kube.get(requests, request.metadata.name ?? "", serverNamespace)).pipe(
      Effect.map((current) => when(current, done(statusOf(current))))
    ),
    step,
    limit
  )

const processed = (request: KubeObject) =>
  requestWhen(request, "Processed", (status) => status["phase"] === "Processed")

const phaseOfBackup = (name: string) =>
  Effect.flatMap(KubeClient, (kube) => kube.get(backups, name, serverNamespace)).pipe(
    Effect.map((backup) => statusOf(backup)["phase"])
  )

describe("TTL expiry deletes a backup through a DeleteBackupRequest", () => {
  it.scoped("removes the resource, its files, snapshots and restores; another backup is untouched", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("old", {
        expiration: "2024-05-01T13:00:00Z",
        snapshots: 2,
        restores: ["old-restore-1", "old-restore-2"]
      })
      const kept = yield* seedBackup("kept", {
        expiration: "2024-06-01T00:00:00Z",
        snapshots: 1,
        restores: ["kept-restore"]
      })
      const keysBefore = yield* keysIn("default")
      yield* Layer.build(GcController.layer({ namespace: serverNamespace, period: "10 minutes" }))
      yield* startDeletion

      // Passes run every 10 minutes; at 13:00 "old" expires.
      yield* waitAdvancing(
        "backup old deleted",
        exists(backups, "old").pipe(Effect.map((found) => when(true, !found))),
        "10 minutes"
      )
      const now = yield* TestClock.currentTimeMillis
      assert.isAtLeast(now, Date.parse("2024-05-01T13:00:00Z"))
      assert.isBelow(now, Date.parse("2024-06-01T00:00:00Z"))

      assert.deepStrictEqual(yield* keysIn("default", "backups/old/"), [])
      assert.deepStrictEqual(yield* keysIn("default", "restores/old-restore"), [])
      assert.isFalse(yield* exists(restores, "old-restore-1"))
      assert.isFalse(yield* exists(restores, "old-restore-2"))
      assert.deepStrictEqual((yield* snapshotsIn).map((snapshot) => snapshot.snapshotId), kept)

      // Everything of "kept" is where it was.
      assert.deepStrictEqual(yield* keysIn("default"), keysBefore.filter((key) => !key.includes("/old")))
      assert.include(yield* keysIn("default"), "backups/kept/kept-volumesnapshots.json.gz")
      assert.strictEqual(yield* phaseOfBackup("kept"), "Completed")
      assert.isTrue(yield* exists(restores, "kept-restore"))

      const [request, ...others] = yield* requestsOf("old")
      assert.lengthOf(others, 0)
      assert.strictEqual(statusOf(request!)["phase"], "Processed")
      assert.isUndefined(statusOf(request!)["errors"])
      assert.strictEqual(request!.metadata.labels?.[backupNameLabel], "old")
      assert.match(request!.metadata.name ?? "", /^old-[a-z0-9]{5}$/)
    }).pipe(Effect.provide(deletionLayer)))
})

describe("the backup-deletion controller", () => {
  it.scoped("a failing snapshot deletion keeps the request InProgress with errors; a later retry completes it", () =>
    Effect.gen(function*() {
      yield* installArk
      yield* installLocation("default")
      const snapshotIds = yield* seedBackup("nightly", { snapshots: 1, restores: ["nightly-restore"] })
      const blockStores = yield* MemoryBlockStores.MemoryBlockStores
      const { control } = yield* blockStores.location("ebs")
      yield* control.failOperation("deleteSnapshot", "UnauthorizedOperation: not allowed")
      yield* startDeletion
      const request = yield* submit("nightly")

      const failed = yield* requestWhen(request, "has errors", (status) => Array.isArray(status["errors"]))
      assert.strictEqual(statusOf(failed)["phase"], "InProgress")
      const errors = statusOf(failed)["errors"] as ReadonlyArray<string>
      assert.lengthOf(errors, 1)
      assert.include(errors[0], `snapshot ${snapshotIds[0]} of persistent volume pv-nightly-0`)
      assert.include(errors[0], "UnauthorizedOperation")
      // Uncommitted, but the records, the other files, the restore and the resource are kept for the retry.
      const keys = yield* keysIn("default", "backups/nightly/")
      assert.notInclude(keys, backupKeys("nightly").metadata)
      assert.include(keys, backupKeys("nightly").volumeSnapshots)
      assert.include(keys, backupKeys("nightly").tarball)
      assert.strictEqual(yield* phaseOfBackup("nightly"), "Deleting")
      assert.isTrue(yield* exists(restores, "nightly-restore"))
      assert.lengthOf(yield* snapshotsIn, 1)

      // Still failing on the next attempt (after the backoff): the request keeps the newest errors.
      yield* control.failOperation("deleteSnapshot", "RequestLimitExceeded")
      const failedAt = yield* TestClock.currentTimeMillis
      // The clock stops at the 5 s backoff: the retry reads its snapshot records through gzip, real
      // I/O the clock would otherwise run on through on a slow machine. Seen earlier is too early;
      // not seen at all, too late.
      const again = yield* requestWhen(
        request,
        "retried",
        (status) => String(status["errors"]).includes("RequestLimitExceeded"),
        "1 second",
        "5 seconds"
      )
      const waited = (yield* TestClock.currentTimeMillis) - failedAt
      assert.strictEqual(waited, 5_000, "the first retry comes 5 seconds after the failure")
      assert.strictEqual(statusOf(again)["phase"], "InProgress")
      assert.isTrue(yield* exists(backups, "nightly"))

      yield* control.clearFailures
      const done = yield* requestWhen(request, "Processed", (status) => status["phase"] === "Processed", "5 seconds")
      assert.isUndefined(statusOf(done)["errors"])
      assert.isFalse(yield* exists(backups, "nightly"))
      assert.isFalse(yield* exists(restores, "nightly-restore"))
      assert.deepStrictEqual(yield* keysIn("default"), [])
      assert.lengthOf(yield* snapshotsIn, 0)
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("a ReadOnly location: nothing is deleted and the request says why", () =>
    Effect.gen(function*() {
      yield* installArk
      yield* installLocation("archive", "ReadOnly")
      yield* seedBackup("archived", { location: "archive", snapshots: 1, restores: ["archived-restore"] })
      const before = yield* keysIn("archive")
      yield* startDeletion
      const done = yield* processed(yield* submit("archived"))
      assert.deepStrictEqual(statusOf(done)["errors"], [
        "backup storage location \"archive\" is ReadOnly: backup \"archived\" is kept, with its files and snapshots"
      ])
      assert.deepStrictEqual(yield* keysIn("archive"), before)
      assert.strictEqual(yield* phaseOfBackup("archived"), "Completed")
      assert.isTrue(yield* exists(restores, "archived-restore"))
      assert.lengthOf(yield* snapshotsIn, 1)
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("refuses to delete a backup in progress, and one whose location is missing", () =>
    Effect.gen(function*() {
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("running", { phase: "InProgress" })
      yield* seedBackup("orphan", { location: "gone" })
      yield* startDeletion

      const running = yield* processed(yield* submit("running"))
      assert.deepStrictEqual(statusOf(running)["errors"], [
        "backup \"running\" is in progress; it can be deleted once it finishes"
      ])
      assert.strictEqual(yield* phaseOfBackup("running"), "InProgress")
      assert.include(yield* keysIn("default"), backupKeys("running").metadata)

      const orphan = yield* processed(yield* submit("orphan"))
      const errors = statusOf(orphan)["errors"] as ReadonlyArray<string>
      assert.include(errors[0], "backup storage location \"gone\" does not exist")
      assert.include(errors[0], "backup \"orphan\" is kept")
      assert.strictEqual(yield* phaseOfBackup("orphan"), "Completed")
      assert.include(yield* keysIn("gone"), backupKeys("orphan").metadata)
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("a request for a backup that does not exist is Processed without errors", () =>
    Effect.gen(function*() {
      yield* installArk
      yield* installLocation("default")
      yield* startDeletion
      const done = yield* processed(yield* submit("never-was"))
      assert.isUndefined(statusOf(done)["errors"])
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("labels a hand-made request, and deletes the other requests for the same backup once processed", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("twice")
      // An older request, already Processed (an earlier refusal), and a new one without a label.
      const old = yield* submit("twice")
      yield* kube.patchStatus(requests, old.metadata.name ?? "", {
        type: "merge",
        body: { status: { phase: "Processed", errors: ["earlier"] } }
      }, serverNamespace)
      const handMade = yield* kube.create(requests, {
        apiVersion: "ark.heptio.com/v1",
        kind: "DeleteBackupRequest",
        metadata: { name: "by-hand", namespace: serverNamespace },
        spec: { backupName: "twice" }
      })
      yield* startDeletion
      const done = yield* processed(handMade)
      assert.strictEqual(done.metadata.labels?.[backupNameLabel], "twice")
      assert.isFalse(yield* exists(backups, "twice"))
      const left = yield* waitAdvancing(
        "one request left",
        requestsOf("twice").pipe(Effect.map((found) => when(found, found.length === 1)))
      )
      assert.strictEqual(left[0]?.metadata.name, "by-hand")
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("a Processed request is kept for a day after its creation, then deleted by the hourly pass", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* startDeletion
      const request = yield* submit("never-was")
      yield* processed(request)
      const name = request.metadata.name ?? ""
      yield* TestClock.adjust("23 hours")
      assert.isTrue(yield* exists(requests, name))
      yield* waitAdvancing(
        "the request deleted",
        exists(requests, name).pipe(Effect.map((found) => when(true, !found))),
        "10 minutes"
      )
      const deletedAt = yield* TestClock.currentTimeMillis
      assert.isAbove(deletedAt, start + Duration.toMillis("24 hours"))
      assert.isAtMost(deletedAt, start + Duration.toMillis("25 hours") + Duration.toMillis("10 minutes"))
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("without a BlockStoreProvider, a backup with snapshots stays, and the request says why", () =>
    Effect.gen(function*() {
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("with-volumes", { snapshots: 1 })
      // The controller is built without block stores; the seeding above used them.
      yield* startDeletion.pipe(
        Effect.mapInputContext((
          context: Context.Context<KubeClient | ObjectStoreProvider | BlockStoreProvider | Scope.Scope>
        ) => Context.omit(BlockStoreProvider)(context))
      )
      const request = yield* submit("with-volumes")
      const failed = yield* requestWhen(request, "has errors", (status) => Array.isArray(status["errors"]))
      assert.strictEqual(statusOf(failed)["phase"], "InProgress")
      assert.deepStrictEqual(statusOf(failed)["errors"], [
        "backup \"with-volumes\" has 1 volume snapshot(s) and this server has no block store provider to delete them"
      ])
      assert.isTrue(yield* exists(backups, "with-volumes"))
      assert.include(yield* keysIn("default"), backupKeys("with-volumes").volumeSnapshots)
      assert.lengthOf(yield* snapshotsIn, 1)
    }).pipe(Effect.provide(deletionLayer)))
})

/** The provider, with every delete on the `default` bucket recorded in order. */
const recordingDeletes = (deletes: Array<string>) =>
  Layer.effect(
    ObjectStoreProvider,
    Effect.gen(function*() {
      const inner = yield* ObjectStoreProvider
      return {
        forLocation: (location) =>
          inner.forLocation(location).pipe(Effect.map((store): ObjectStore.Shape => ({
            ...store,
            delete: (key) => Effect.sync(() => void deletes.push(key)).pipe(Effect.zipRight(store.delete(key)))
          })))
      }
    })
  ).pipe(Layer.provideMerge(Layer.merge(memoryLayer, MemoryBlockStores.layer())))

describe("the deletion core", () => {
  it.effect("uncommits first, deletes the snapshots before the records, the restores after the backup's files", () => {
    const deletes: Array<string> = []
    return Effect.gen(function*() {
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("ordered", { snapshots: 1, restores: ["ordered-restore"] })
      const blockStores = yield* BlockStoreProvider
      const result = yield* deleteBackup("ordered", serverNamespace, Option.some(blockStores))
      assert.deepStrictEqual(result, { _tag: "Deleted", files: 6, snapshots: 1, restores: ["ordered-restore"] })
      const keys = backupKeys("ordered")
      assert.strictEqual(deletes[0], keys.metadata)
      assert.includeMembers(deletes, [
        keys.tarball,
        keys.volumeSnapshots,
        "restores/ordered-restore/restore-ordered-restore-logs.gz"
      ])
      assert.isBelow(
        deletes.indexOf(keys.volumeSnapshots),
        deletes.indexOf("restores/ordered-restore/restore-ordered-restore-logs.gz")
      )
      assert.deepStrictEqual(yield* keysIn("default"), [])
      assert.lengthOf(yield* snapshotsIn, 0)

      // Run again: there is nothing left, and nothing fails.
      assert.deepStrictEqual(yield* deleteBackup("ordered", serverNamespace, Option.some(blockStores)), {
        _tag: "NotFound"
      })
    }).pipe(Effect.provide(recordingDeletes(deletes)))
  })

  it.effect("a Restore in progress holds the deletion back after the backup is marked Deleting", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("busy", { restores: ["busy-restore"] })
      yield* kube.patchStatus(
        restores,
        "busy-restore",
        { type: "merge", body: { status: { phase: "InProgress" } } },
        serverNamespace
      )
      const result = yield* deleteBackup("busy", serverNamespace, Option.none())
      assert.deepStrictEqual(result, {
        _tag: "Incomplete",
        errors: ["restore \"busy-restore\" of backup \"busy\" is in progress; the backup is deleted once it finishes"]
      })
      assert.strictEqual(yield* phaseOfBackup("busy"), "Deleting")
      assert.include(yield* keysIn("default"), backupKeys("busy").metadata)

      yield* kube.patchStatus(
        restores,
        "busy-restore",
        { type: "merge", body: { status: { phase: "Completed" } } },
        serverNamespace
      )
      assert.strictEqual((yield* deleteBackup("busy", serverNamespace, Option.none()))._tag, "Deleted")
      assert.deepStrictEqual(yield* keysIn("default"), [])
    }).pipe(Effect.provide(deletionLayer)))

  it.effect("a storage failure is Incomplete, says what was being read, and deletes nothing", () =>
    Effect.gen(function*() {
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("flaky")
      const stores = yield* MemoryObjectStores
      yield* stores.unreachable("bucket-default", "connection reset")
      const result = yield* deleteBackup("flaky", serverNamespace, Option.none())
      assert.strictEqual(result._tag, "Incomplete")
      assert.deepStrictEqual(result._tag === "Incomplete" ? result.errors : [], [
        // The first read of storage: whether any file is under Object Lock retention.
        "cannot read the retention of the files of backup \"flaky\": connection reset"
      ])
      yield* stores.reachable("bucket-default")
      assert.include(yield* keysIn("default"), backupKeys("flaky").metadata)
      assert.isTrue(yield* exists(backups, "flaky"))
    }).pipe(Effect.provide(deletionLayer)))
})
