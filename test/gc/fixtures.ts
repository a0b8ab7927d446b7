// Stored backups for the deletion and GC tests: a Backup resource with its status, its files in a
// fake bucket, a snapshot in a fake block store with its records, and Restores of it with their
// files. Plus a wait that moves the TestClock while it polls, for controllers that back off.
import { Clock, Duration, Effect, Layer, Option, Stream, TestClock, TestServices } from "effect"

import * as MemoryBlockStores from "../../layers/blockstore/MemoryProvider.ts"
import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { apiVersion } from "../../src/api/index.ts"
import { backupKeys, restoreKeys } from "../../src/archive/layout.ts"
import { deleteBackupRequestsGvr, requestedBackup } from "../../src/deletion/requests.ts"
import { writeSnapshotRecords } from "../../src/volumes/records.ts"
import { backups, gvr, location, locations, memoryLayer, serverNamespace } from "../server/fixtures.ts"
import { DeadlineExceeded } from "../support/wait.ts"

export const restores = gvr("restores")
export const snapshotLocations = gvr("volumesnapshotlocations")
export const requests = deleteBackupRequestsGvr

/** The fake API server, buckets and block stores of one test. */
export const deletionLayer = Layer.mergeAll(memoryLayer, MemoryBlockStores.layer())

export interface StoredBackup {
  readonly location?: string
  readonly phase?: string
  readonly expiration?: string
  /** Snapshots taken in the VolumeSnapshotLocation `ebs`, one per PV. */
  readonly snapshots?: number
  readonly restores?: ReadonlyArray<string>
}

export const bucketOf = (locationName: string) => `bucket-${locationName}`

/** A ReadWrite (or ReadOnly) location with its own bucket, and the snapshot location `ebs`. */
export const installLocation = (name: string, accessMode: "ReadWrite" | "ReadOnly" = "ReadWrite") =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.create(locations, location(name, { objectStorage: { bucket: bucketOf(name) }, accessMode }))
    yield* kube.get(snapshotLocations, "ebs", serverNamespace).pipe(
      Effect.catchTag("KubeNotFound", () =>
        kube.create(snapshotLocations, {
          apiVersion,
          kind: "VolumeSnapshotLocation",
          metadata: { name: "ebs", namespace: serverNamespace },
          spec: { provider: "aws", config: { region: "us-east-1" } }
        }))
    )
  })

export const storeOf = (locationName: string) =>
  Effect.flatMap(MemoryObjectStores, (stores) => stores.store(bucketOf(locationName)))

export const keysIn = (locationName: string, prefix = "") =>
  Effect.gen(function*() {
    const store = yield* storeOf(locationName)
    return (yield* store.list(prefix)).objects.map((object) => object.key)
  })

export const snapshotsIn = Effect.gen(function*() {
  const stores = yield* MemoryBlockStores.MemoryBlockStores
  const { control } = yield* stores.location("ebs")
  return [...(yield* control.snapshots).values()]
})

const put = (store: ObjectStore.Shape, key: string) => store.put(key, Stream.make(new TextEncoder().encode(key)))

/** A finished backup as the backup and restore controllers leave it. Returns its snapshot IDs. */
export const seedBackup = (name: string, options: StoredBackup = {}) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const locationName = options.location ?? "default"
    const store = yield* storeOf(locationName)
    const keys = backupKeys(name)
    for (const key of [keys.tarball, keys.logs, keys.resourceList, keys.results, keys.metadata]) yield* put(store, key)

    const stores = yield* MemoryBlockStores.MemoryBlockStores
    const { control, store: blockStore } = yield* stores.location("ebs")
    const snapshotIds: Array<string> = []
    for (let i = 0; i < (options.snapshots ?? 0); i++) {
      const volumeId = `vol-${name}-${i}`
      yield* control.addVolume({ volumeId, availabilityZone: "us-east-1a", volumeType: "gp3" })
      snapshotIds.push(yield* blockStore.createSnapshot(volumeId, "us-east-1a", { backup: name }))
    }
    if (snapshotIds.length > 0) {
      yield* writeSnapshotRecords(
        name,
        snapshotIds.map((snapshotId, i) => ({
          pvName: `pv-${name}-${i}`,
          providerVolumeId: `vol-${name}-${i}`,
          availabilityZone: "us-east-1a",
          volumeType: "gp3",
          snapshotId,
          location: "ebs",
          phase: "Completed" as const
        }))
      ).pipe(Effect.provideService(ObjectStore, store))
    }

    yield* kube.create(backups, {
      apiVersion,
      kind: "Backup",
      metadata: { name, namespace: serverNamespace },
      spec: { storageLocation: locationName }
    })
    yield* kube.patchStatus(backups, name, {
      type: "merge",
      body: {
        status: {
          phase: options.phase ?? "Completed",
          ...(options.expiration === undefined ? {} : { expiration: options.expiration }),
          volumeSnapshotsAttempted: snapshotIds.length,
          volumeSnapshotsCompleted: snapshotIds.length
        }
      }
    }, serverNamespace)

    for (const restore of options.restores ?? []) {
      yield* kube.create(restores, {
        apiVersion,
        kind: "Restore",
        metadata: { name: restore, namespace: serverNamespace },
        spec: { backupName: name }
      })
      yield* kube.patchStatus(
        restores,
        restore,
        { type: "merge", body: { status: { phase: "Completed" } } },
        serverNamespace
      )
      yield* put(store, restoreKeys(restore).logs)
      yield* put(store, restoreKeys(restore).results)
    }
    return snapshotIds
  })

export const exists = (resource: typeof backups, name: string) =>
  Effect.flatMap(KubeClient, (kube) => kube.get(resource, name, serverNamespace)).pipe(
    Effect.as(true),
    Effect.catchTag("KubeNotFound", () => Effect.succeed(false))
  )

/** The DeleteBackupRequests that name `backup`. */
export const requestsOf = (backup: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* Stream.runCollect(kube.listPages(requests, { namespace: serverNamespace }))
    return [...pages].flatMap((page) => page.items).filter((request) => requestedBackup(request) === backup)
  })

export const statusOf = (object: KubeObject): Record<string, unknown> =>
  (object["status"] as Record<string, unknown> | undefined) ?? {}

/**
 * Polls `check` until it returns Some, moving the TestClock by `step` between polls (so backoffs
 * and periods elapse), and yielding to real I/O (gzip) for a few milliseconds; fails after a real
 * deadline. The clock moves `limit` at most in all: from there only real time passes, so work that
 * does real I/O ends at the instant it was due however slow the machine (the clock would otherwise
 * run on meanwhile).
 */
export const waitAdvancing = <A, E, R>(
  what: string,
  check: Effect.Effect<Option.Option<A>, E, R>,
  step: Duration.DurationInput = Duration.zero,
  limit: Duration.DurationInput = Duration.infinity
): Effect.Effect<A, E | DeadlineExceeded, R> =>
  Effect.gen(function*() {
    // A generous real deadline: on a loaded CI machine a poll can take far longer than here.
    const deadline = (yield* TestServices.provideLive(Clock.currentTimeMillis)) + 30_000
    let left = Duration.decode(limit)
    while (true) {
      const found = yield* check
      if (Option.isSome(found)) return found.value
      if ((yield* TestServices.provideLive(Clock.currentTimeMillis)) > deadline) {
        return yield* new DeadlineExceeded({ what })
      }
      const move = Duration.min(Duration.decode(step), left)
      left = Duration.subtract(left, move)
      yield* TestClock.adjust(move)
      yield* TestServices.provideLive(Effect.sleep("5 millis"))
    }
  })

/** Some(x) when `condition` holds. */
export const when = <A>(value: A, condition: boolean): Option.Option<A> =>
  condition ? Option.some(value) : Option.none()
