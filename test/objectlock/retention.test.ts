// S3 Object Lock on Memory layers: a backup's files are written with the location's retention,
// a deletion before it passes is refused before anything is touched, GC waits for it, and only
// S3 locations may ask for it.
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Option, Stream, TestClock } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryProvider from "../../layers/objectstore/MemoryProvider.ts"
import * as Provider from "../../layers/objectstore/Provider.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { Retention } from "../../services/ObjectStore.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { StorageLocation } from "../../services/ObjectStoreProvider.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { runBackup } from "../../src/backup/run.ts"
import { deleteBackup } from "../../src/deletion/backup.ts"
import { newDeleteBackupRequest } from "../../src/deletion/requests.ts"
import { collectExpiredBackups } from "../../src/gc/expired.ts"
import * as BackupDeletionController from "../../src/server/controllers/backupDeletion.ts"
import { configMap, deps, makeBackup, testLayer } from "../backup/fixtures.ts"
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
  storeOf,
  waitAdvancing,
  when
} from "../gc/fixtures.ts"
import { backup, backups, installArk, location, locations, serverNamespace } from "../server/fixtures.ts"

const start = Date.parse("2024-05-01T12:00:00Z")
const retainUntil = new Date("2024-05-01T13:00:00Z")

/** Writes every file of the backup again, now under `retention`, as a locked location would have. */
const retainFiles = (locationName: string, backupName: string, retention: Retention) =>
  Effect.gen(function*() {
    const store = yield* storeOf(locationName)
    const { objects } = yield* store.list(backupKeys(backupName).dir)
    for (const object of objects) yield* store.put(object.key, store.get(object.key), { retention })
  })

describe("a backup to a location with Object Lock", () => {
  it.effect("writes every file with the location's mode until the start plus the TTL, and records it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start + 250)
      const control = yield* MemoryKube.MemoryKube
      yield* control.seed([configMap("app", "settings")])
      const done = yield* runBackup(
        makeBackup({ includedNamespaces: ["app"], ttl: "1h" }),
        { ...deps, objectLock: { mode: "COMPLIANCE" } }
      )
      assert.strictEqual(done.status?.phase, "Completed")
      assert.deepStrictEqual(done.status?.retention, { mode: "COMPLIANCE", retainUntil: "2024-05-01T13:00:00Z" })

      const store = yield* ObjectStore
      const { objects } = yield* store.list("")
      const keys = objects.map((object) => object.key)
      assert.includeMembers(keys, [backupKeys("b1").tarball, backupKeys("b1").metadata, backupKeys("b1").logs])
      for (const key of keys) {
        assert.deepStrictEqual(yield* store.retention(key), Option.some({ mode: "COMPLIANCE", retainUntil }), key)
      }
    }).pipe(Effect.provide(testLayer())))

  it.effect("a backup without a TTL is written without retention", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      const done = yield* runBackup(makeBackup({ ttl: "0" }), { ...deps, objectLock: { mode: "GOVERNANCE" } })
      assert.strictEqual(done.status?.phase, "Completed")
      assert.isUndefined(done.status?.retention)
      const store = yield* ObjectStore
      assert.deepStrictEqual(yield* store.retention(backupKeys("b1").metadata), Option.none())
    }).pipe(Effect.provide(testLayer())))
})

const reason =
  "backup \"locked\" is kept: 6 of its files are retained until 2024-05-01T13:00:00.000Z (S3 Object Lock, mode GOVERNANCE); " +
  "it can be deleted from then on, and a shorter TTL or expiration cannot shorten the retention"

describe("deleting a backup whose files are retained", () => {
  it.effect("is refused before anything is touched, and goes through once the retention has passed", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("locked", { snapshots: 1, restores: ["locked-restore"] })
      yield* retainFiles("default", "locked", { mode: "GOVERNANCE", retainUntil })
      const before = yield* keysIn("default")

      const refused = yield* deleteBackup("locked", serverNamespace, Option.none())
      assert.deepStrictEqual(refused, { _tag: "Refused", errors: [reason] })
      assert.deepStrictEqual(yield* keysIn("default"), before)
      assert.isTrue(yield* exists(restores, "locked-restore"))
      assert.lengthOf(yield* snapshotsIn, 1)
      const kube = yield* KubeClient
      assert.strictEqual(statusOf(yield* kube.get(backups, "locked", serverNamespace))["phase"], "Completed")

      yield* TestClock.setTime(retainUntil.getTime())
      const deleted = yield* deleteBackup("locked", serverNamespace, Option.some(yield* BlockStoreProvider))
      assert.deepStrictEqual(deleted, { _tag: "Deleted", files: 6, snapshots: 1, restores: ["locked-restore"] })
      assert.deepStrictEqual(yield* keysIn("default"), [])
    }).pipe(Effect.provide(deletionLayer)))

  it.scoped("through a DeleteBackupRequest: Processed with the reason, the backup stays usable", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      yield* installArk
      yield* installLocation("default")
      yield* seedBackup("locked", { snapshots: 1 })
      yield* retainFiles("default", "locked", { mode: "GOVERNANCE", retainUntil })
      const before = yield* keysIn("default")
      yield* Layer.build(BackupDeletionController.layer({ namespace: serverNamespace }))
      const kube = yield* KubeClient
      const request = yield* kube.create(requests, newDeleteBackupRequest("locked", serverNamespace))
      const done = yield* waitAdvancing(
        "the request Processed",
        kube.get(requests, request.metadata.name ?? "", serverNamespace).pipe(
          Effect.map((current) => when(current, statusOf(current)["phase"] === "Processed"))
        )
      )
      assert.deepStrictEqual(statusOf(done)["errors"], [reason])
      assert.deepStrictEqual(yield* keysIn("default"), before)
      assert.strictEqual(statusOf(yield* kube.get(backups, "locked", serverNamespace))["phase"], "Completed")
    }).pipe(Effect.provide(deletionLayer)))
})

describe("garbage collection of a backup under retention", () => {
  it.effect("an expiration moved before the retention waits for it, and says so", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* TestClock.setTime(start)
      yield* installArk
      yield* kube.create(locations, location("default", {}))
      yield* kube.create(backups, backup("shortened", {}))
      yield* kube.patchStatus(backups, "shortened", {
        type: "merge",
        body: {
          status: {
            phase: "Completed",
            expiration: "2024-05-01T11:00:00Z",
            retention: { mode: "COMPLIANCE", retainUntil: "2024-05-01T13:00:00Z" }
          }
        }
      }, serverNamespace)

      const pass = yield* collectExpiredBackups(serverNamespace)
      assert.deepStrictEqual(pass, {
        requested: [],
        skipped: [{
          backup: "shortened",
          reason:
            "its files are retained until 2024-05-01T13:00:00Z (S3 Object Lock, mode COMPLIANCE); an earlier expiration cannot shorten that"
        }]
      })
      assert.lengthOf(yield* requestsOf("shortened"), 0)

      yield* TestClock.setTime(DateTime.toEpochMillis(DateTime.unsafeMake("2024-05-01T13:00:01Z")))
      assert.deepStrictEqual((yield* collectExpiredBackups(serverNamespace)).requested, ["shortened"])
    }).pipe(Effect.provide(deletionLayer)))
})

const filesystemLocation: StorageLocation = {
  metadata: { name: "local", namespace: serverNamespace, uid: "uid-local", generation: 1 },
  spec: {
    provider: "filesystem",
    objectStorage: { bucket: "ark", objectLock: { mode: "GOVERNANCE" } },
    config: { path: "/nonexistent" }
  }
}
const refusal =
  "objectStorage.objectLock needs provider aws (S3 Object Lock): a filesystem location cannot retain files"

describe("which providers may ask for Object Lock", () => {
  it.effect("the live provider refuses a filesystem location that asks for it", () =>
    Effect.gen(function*() {
      const provider = yield* ObjectStoreProvider
      const error = yield* Effect.flip(provider.forLocation(filesystemLocation))
      assert.strictEqual(error.message, refusal)
    }).pipe(Effect.provide(Layer.provideMerge(Provider.layer, MemoryKube.layer))))

  it.effect("the memory provider refuses it the same way, and serves an aws location that asks for it", () =>
    Effect.gen(function*() {
      const provider = yield* ObjectStoreProvider
      const error = yield* Effect.flip(provider.forLocation(filesystemLocation))
      assert.strictEqual(error.message, refusal)
      const store = yield* provider.forLocation({
        ...filesystemLocation,
        spec: { provider: "aws", objectStorage: filesystemLocation.spec.objectStorage }
      })
      yield* store.put("k", Stream.empty, { retention: { mode: "GOVERNANCE", retainUntil } })
      assert.isTrue(Option.isSome(yield* store.retention("k")))
    }).pipe(Effect.provide(MemoryProvider.layer)))
})
