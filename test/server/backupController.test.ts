// The backup controller over the fake API server and fake buckets: phases, validation, isolation
// of failures between backups, and crash recovery.
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Layer, Scope, Stream } from "effect"

import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { apiVersion } from "../../src/api/index.ts"
import { readArchive } from "../../src/archive/reader.ts"
import { locationMarkerKey } from "../../src/locations/marker.ts"
import { interruptedByRestart, interruptedByShutdown } from "../../src/server/controllers/backup.ts"
import { controllers } from "../../src/server/main.ts"
import {
  backup,
  backups,
  gvr,
  installArk,
  location,
  locations,
  memoryLayer,
  seedApp,
  serverNamespace,
  statusOf,
  waitForPhase,
  waitForStatus
} from "./fixtures.ts"

const startServer = (concurrency = 2) =>
  Layer.build(
    controllers({
      namespace: serverNamespace,
      restoreOnly: false,
      backupConcurrency: concurrency,
      locationValidationPeriod: "1 hour",
      progressInterval: "50 millis"
    })
  )

/** The keys a backup wrote: not the location's marker, which location validation writes. */
const keysIn = (bucket: string, prefix?: string) =>
  Effect.gen(function*() {
    const stores = yield* MemoryObjectStores
    const store = yield* stores.store(bucket, prefix)
    const listing = yield* store.list("")
    return listing.objects.map((object) => object.key).filter((key) => key !== locationMarkerKey)
  })

describe("backup controller", () => {
  it.scopedLive(
    "runs a new Backup to Completed and commits the storage layout to its location",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* installArk
        yield* seedApp("shop", 3)
        yield* seedApp("other", 2)
        yield* kube.create(locations, location("default", { objectStorage: { bucket: "ark", prefix: "cluster-a" } }))
        yield* startServer()
        yield* kube.create(backups, backup("nightly", { includedNamespaces: ["shop"], ttl: "24h" }))

        const done = yield* waitForPhase(backups, "nightly", "Completed", "PartiallyFailed", "Failed")
        const status = statusOf(done)
        assert.strictEqual(status["phase"], "Completed", JSON.stringify(status))
        assert.isString(status["startTimestamp"])
        assert.isString(status["completionTimestamp"])
        assert.isString(status["expiration"])
        assert.match(String(status["resourceVersion"]), /^[0-9]+$/)
        assert.strictEqual(status["consistency"], "Exact")
        const progress = status["progress"] as { itemsBackedUp: number; totalItems: number }
        // Three ConfigMaps, plus the namespace itself.
        assert.isAtLeast(progress.itemsBackedUp, 3)
        assert.strictEqual(progress.itemsBackedUp, progress.totalItems)

        const keys = yield* keysIn("ark", "cluster-a")
        for (
          const key of [
            "nightly.tar.gz",
            "nightly-logs.gz",
            "nightly-resource-list.json.gz",
            "nightly-results.gz",
            "ark-backup.json"
          ]
        ) {
          assert.include(keys, `backups/nightly/${key}`)
        }
        const stores = yield* MemoryObjectStores
        const store = yield* stores.store("ark", "cluster-a")
        const entries = yield* readArchive(store.get("backups/nightly/nightly.tar.gz")).pipe(
          Stream.map((entry) => entry.path),
          Stream.runCollect
        )
        const paths = Chunk.toReadonlyArray(entries)
        for (let i = 0; i < 3; i++) assert.include(paths, `resources/configmaps/namespaces/shop/config-${i}.json`)
        assert.isFalse(paths.some((path) => path.includes("/namespaces/other/")), "only the included namespace")
        // Nothing went to a bucket the location does not name.
        assert.deepStrictEqual(yield* keysIn("ark"), [])
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive("FailedValidation lists every problem and uploads nothing", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* kube.create(locations, location("default", {}))
      yield* startServer()
      yield* kube.create(
        backups,
        backup("bad", {
          includedResources: ["configmaps", "flibbertigibbets"],
          ttl: "3 days",
          labelSelector: { matchLabels: { app: "a" } },
          orLabelSelectors: [{ matchLabels: { app: "b" } }],
          storageLocation: "nowhere"
        })
      )
      const done = yield* waitForPhase(backups, "bad", "FailedValidation")
      const errors = (statusOf(done)["validationErrors"] as ReadonlyArray<string>).join("\n")
      assert.include(errors, "flibbertigibbets")
      assert.include(errors, "spec.ttl")
      assert.include(errors, "mutually exclusive")
      assert.include(errors, "\"nowhere\" does not exist")
      assert.deepStrictEqual(yield* keysIn("ark"), [])
    }).pipe(Effect.provide(memoryLayer)))

  it.scopedLive("a ReadOnly location fails validation", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* kube.create(locations, location("archive", { accessMode: "ReadOnly" }))
      yield* startServer()
      yield* kube.create(backups, backup("to-archive", { storageLocation: "archive" }))
      const done = yield* waitForPhase(backups, "to-archive", "FailedValidation")
      assert.deepStrictEqual(statusOf(done)["validationErrors"], [
        "storageLocation: backup storage location \"archive\" is ReadOnly; backups cannot be written to it"
      ])
      assert.deepStrictEqual(yield* keysIn("ark"), [])
    }).pipe(Effect.provide(memoryLayer)))

  it.scopedLive(
    "two backups run at once; a defect in one fails only that one and the server carries on",
    () =>
      Effect.flatMap(Deferred.make<void>(), (release) =>
        Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* installArk
          yield* seedApp("shop", 2)
          yield* kube.create(locations, location("default", {}))
          yield* kube.create(locations, location("poisoned", { objectStorage: { bucket: "poisoned" } }))
          yield* startServer(2)
          yield* kube.create(backups, backup("doomed", { includedNamespaces: ["shop"], storageLocation: "poisoned" }))
          // Progress is written while the backup runs: the tarball's items are all read, the upload hangs.
          const running = yield* waitForStatus(
            backups,
            "doomed",
            "progress past the two ConfigMaps",
            (status) => ((status["progress"] as { itemsBackedUp?: number } | undefined)?.itemsBackedUp ?? 0) >= 2
          )
          assert.strictEqual(statusOf(running)["phase"], "InProgress")
          // "doomed" is stuck writing its tarball; "fine" runs and completes beside it.
          yield* kube.create(backups, backup("fine", { includedNamespaces: ["shop"] }))
          const fine = yield* waitForPhase(backups, "fine", "Completed", "Failed")
          assert.strictEqual(statusOf(fine)["phase"], "Completed")
          assert.strictEqual(statusOf(yield* kube.get(backups, "doomed", serverNamespace))["phase"], "InProgress")

          yield* Deferred.succeed(release, undefined)
          const doomed = yield* waitForPhase(backups, "doomed", "Failed", "Completed")
          assert.strictEqual(statusOf(doomed)["phase"], "Failed")
          assert.include(String(statusOf(doomed)["failureReason"]), "poisoned store")
          assert.include(yield* keysIn("ark"), "backups/fine/ark-backup.json")
          assert.notInclude(yield* keysIn("poisoned"), "backups/doomed/ark-backup.json")

          yield* kube.create(backups, backup("after", { includedNamespaces: ["shop"] }))
          assert.strictEqual(
            statusOf(yield* waitForPhase(backups, "after", "Completed", "Failed"))["phase"],
            "Completed"
          )
        }).pipe(Effect.provide(poisonedStore(release))))
  )

  it.scopedLive(
    "a defect in the controller's own steps is recorded as Failed and the next backup runs",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        yield* installArk
        yield* kube.create(locations, location("default", {}))
        yield* kube.create(locations, location("broken", { objectStorage: { bucket: "broken" } }))
        yield* startServer(1)
        yield* kube.create(backups, backup("doomed", { storageLocation: "broken" }))
        const doomed = yield* waitForPhase(backups, "doomed", "Failed")
        assert.strictEqual(statusOf(doomed)["failureReason"], "unexpected error: broken provider")
        yield* kube.create(backups, backup("next", {}))
        assert.strictEqual(statusOf(yield* waitForPhase(backups, "next", "Completed", "Failed"))["phase"], "Completed")
        // The location controller survived the same defect and says why.
        const broken = yield* waitForPhase(locations, "broken", "Unavailable")
        assert.strictEqual(statusOf(broken)["message"], "unexpected error: broken provider")
      }).pipe(Effect.provide(brokenProvider))
  )

  it.scopedLive(
    "a Restore that dies with a defect does not stop a Backup running at the same time",
    () =>
      Effect.flatMap(Deferred.make<void>(), (gate) =>
        Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* installArk
          yield* seedApp("shop", 2)
          yield* kube.create(locations, location("gated", { objectStorage: { bucket: "gated" } }))
          yield* kube.create(locations, location("broken", { objectStorage: { bucket: "broken" } }))
          // A finished backup whose storage the restore will fail to open with a defect.
          const old = yield* kube.create(backups, backup("old", { storageLocation: "broken" }))
          yield* kube.updateStatus(backups, { ...old, status: { phase: "Completed" } })
          yield* startServer()
          yield* kube.create(backups, backup("running", { storageLocation: "gated" }))
          yield* waitForPhase(backups, "running", "InProgress")
          yield* kube.create(gvr("restores"), {
            apiVersion,
            kind: "Restore",
            metadata: { name: "doomed", namespace: serverNamespace },
            spec: { backupName: "old" }
          })
          const doomed = yield* waitForPhase(gvr("restores"), "doomed", "Failed")
          assert.include(String(statusOf(doomed)["failureReason"]), "broken provider")
          // The backup was mid-upload all along; released now, it completes.
          yield* Deferred.succeed(gate, undefined)
          assert.strictEqual(
            statusOf(yield* waitForPhase(backups, "running", "Completed", "Failed"))["phase"],
            "Completed"
          )
        }).pipe(Effect.provide(gatedAndBroken(gate))))
  )

  it.scopedLive("a Backup left InProgress by a crash is marked Failed at start", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* kube.create(locations, location("default", {}))
      const created = yield* kube.create(backups, backup("interrupted", {}))
      yield* kube.updateStatus(backups, {
        ...created,
        status: { phase: "InProgress", startTimestamp: "2024-05-01T12:00:00Z" }
      })
      yield* startServer()
      const done = yield* waitForPhase(backups, "interrupted", "Failed")
      assert.strictEqual(statusOf(done)["failureReason"], interruptedByRestart)
      assert.isString(statusOf(done)["completionTimestamp"])
      assert.deepStrictEqual(yield* keysIn("ark"), [])
    }).pipe(Effect.provide(memoryLayer)))

  it.scopedLive(
    "at start, an interrupted backup's partial files are removed; one that had committed keeps its stored status",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const stores = yield* MemoryObjectStores
        const store = yield* stores.store("ark")
        yield* installArk
        yield* kube.create(locations, location("default", {}))
        const inProgress = (name: string) =>
          kube.create(backups, backup(name, {})).pipe(
            Effect.flatMap((created) => kube.updateStatus(backups, { ...created, status: { phase: "InProgress" } }))
          )
        const text = (value: string) => Stream.make(new TextEncoder().encode(value))
        // Killed mid-upload: a tarball and a log, no ark-backup.json.
        yield* inProgress("partial")
        yield* store.put("backups/partial/partial.tar.gz", text("half a tarball"))
        yield* store.put("backups/partial/partial-logs.gz", text("some lines"))
        // Killed after the commit, before the final status patch.
        yield* inProgress("committed")
        const stored = {
          ...backup("committed", {}),
          status: { phase: "Completed", progress: { itemsBackedUp: 3 }, expiration: "2030-01-01T00:00:00Z" }
        }
        const decodedSpec = {
          includedNamespaces: ["*"],
          includedResources: ["*"],
          snapshotVolumes: true,
          ttl: "720h",
          storageLocation: "default"
        }
        yield* store.put("backups/committed/committed.tar.gz", text("a whole tarball"))
        yield* store.put("backups/committed/ark-backup.json", text(JSON.stringify({ ...stored, spec: decodedSpec })))

        yield* startServer()
        const failed = yield* waitForPhase(backups, "partial", "Failed")
        assert.strictEqual(statusOf(failed)["failureReason"], interruptedByRestart)
        const adopted = yield* waitForPhase(backups, "committed", "Completed")
        assert.strictEqual(statusOf(adopted)["expiration"], "2030-01-01T00:00:00Z")
        assert.deepStrictEqual(yield* keysIn("ark"), [
          "backups/committed/ark-backup.json",
          "backups/committed/committed.tar.gz"
        ])
      }).pipe(Effect.provide(memoryLayer))
  )

  it.scopedLive(
    "shutting the server down interrupts a running backup, records why, and commits nothing",
    () =>
      Effect.flatMap(Deferred.make<void>(), (release) =>
        Effect.gen(function*() {
          const kube = yield* KubeClient
          yield* installArk
          yield* seedApp("shop", 1)
          yield* kube.create(locations, location("poisoned", { objectStorage: { bucket: "poisoned" } }))
          const serverScope = yield* Scope.make()
          yield* Layer.buildWithScope(
            controllers({
              namespace: serverNamespace,
              restoreOnly: false,
              backupConcurrency: 1,
              locationValidationPeriod: "1 hour"
            }),
            serverScope
          )
          yield* kube.create(backups, backup("cut-short", { storageLocation: "poisoned" }))
          yield* waitForPhase(backups, "cut-short", "InProgress")
          yield* Scope.close(serverScope, Exit.void)
          const stopped = yield* kube.get(backups, "cut-short", serverNamespace)
          assert.strictEqual(statusOf(stopped)["phase"], "Failed")
          assert.strictEqual(statusOf(stopped)["failureReason"], interruptedByShutdown)
          assert.notInclude(yield* keysIn("poisoned"), "backups/cut-short/ark-backup.json")
        }).pipe(Effect.provide(poisonedStore(release))))
  )

  it.scopedLive("--restore-only runs no backup controller", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      yield* installArk
      yield* kube.create(locations, location("default", {}))
      yield* Layer.build(
        controllers({
          namespace: serverNamespace,
          restoreOnly: true,
          backupConcurrency: 1,
          locationValidationPeriod: "1 hour"
        })
      )
      yield* kube.create(backups, backup("ignored", {}))
      // The location controller runs: once it has validated, the server has seen the store.
      yield* waitForPhase(locations, "default", "Available")
      const stored = yield* kube.get(backups, "ignored", serverNamespace)
      assert.isUndefined(statusOf(stored)["phase"])
    }).pipe(Effect.provide(memoryLayer)))
})

/** The memory provider, except that opening the `broken` bucket is a defect (a bug in a provider). */
const brokenProvider = Layer.effect(
  ObjectStoreProvider,
  Effect.gen(function*() {
    const inner = yield* ObjectStoreProvider
    return {
      forLocation: (location) =>
        location.spec.objectStorage.bucket === "broken"
          ? Effect.dieMessage("broken provider")
          : inner.forLocation(location)
    }
  })
).pipe(Layer.provideMerge(memoryLayer))

/** The memory provider, except that `broken` dies and a write to `gated` waits for the gate. */
const gatedAndBroken = (gate: Deferred.Deferred<void>) =>
  Layer.effect(
    ObjectStoreProvider,
    Effect.gen(function*() {
      const inner = yield* ObjectStoreProvider
      return {
        forLocation: (location) => {
          const bucket = location.spec.objectStorage.bucket
          if (bucket === "broken") return Effect.dieMessage("broken provider")
          return inner.forLocation(location).pipe(
            Effect.map((store): ObjectStore.Shape =>
              bucket !== "gated"
                ? store
                : { ...store, put: (key, body) => Deferred.await(gate).pipe(Effect.zipRight(store.put(key, body))) }
            )
          )
        }
      }
    })
  ).pipe(Layer.provideMerge(memoryLayer))

/** The memory provider, except that a write to the `poisoned` bucket reads its body, hangs until released, then dies. */
const poisonedStore = (release: Deferred.Deferred<void>) =>
  Layer.effect(
    ObjectStoreProvider,
    Effect.gen(function*() {
      const inner = yield* ObjectStoreProvider
      return {
        forLocation: (location) =>
          inner.forLocation(location).pipe(
            Effect.map((store): ObjectStore.Shape =>
              location.spec.objectStorage.bucket !== "poisoned" ? store : {
                ...store,
                put: (key, body) =>
                  Effect.gen(function*() {
                    yield* Stream.runDrain(body)
                    yield* Deferred.await(release)
                    return yield* Effect.dieMessage(`poisoned store: cannot write ${key}`)
                  })
              }
            )
          )
      }
    })
  ).pipe(Layer.provideMerge(memoryLayer))
