import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"

import * as MemoryBlockStores from "../../layers/blockstore/MemoryProvider.ts"
import * as MemoryHooksLayer from "../../layers/hooks/Memory.ts"
import * as MemoryKube from "../../layers/kube/Memory.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import { HookRunner } from "../../services/HookRunner.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { runBackup } from "../../src/backup/run.ts"
import { executeRestore } from "../../src/restore/run.ts"
import { deleteBackupSnapshots } from "../../src/volumes/delete.ts"
import { readSnapshotRecords } from "../../src/volumes/records.ts"
import { makeBackup } from "../backup/fixtures.ts"
import { claim, ebsPersistentVolume, installLocations, podWithClaims, serverNamespace } from "../volumes/fixtures.ts"
import type { Cluster, World } from "./fixtures.ts"
import { makeRestore, makeWorld } from "./fixtures.ts"

const PVS = { group: "", version: "v1", resource: "persistentvolumes" }
const PVCS = { group: "", version: "v1", resource: "persistentvolumeclaims" }

const inCluster = (cluster: Cluster) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provideService(KubeClient, cluster.client),
    Effect.provideService(MemoryKube.MemoryKube, cluster.control)
  )

/** A source cluster with a snapshotted EBS volume, backed up as b1; the target knows the same location. */
const backedUp = Effect.gen(function*() {
  const world: World = yield* makeWorld
  const stores = yield* MemoryBlockStores.MemoryBlockStores
  const { control } = yield* stores.location("ebs")
  yield* control.addVolume({
    volumeId: "vol-db",
    availabilityZone: "us-east-1b",
    volumeType: "io2",
    iops: 4000,
    sizeGiB: 20
  })
  yield* inCluster(world.source)(Effect.gen(function*() {
    yield* installLocations("ebs")
    yield* world.source.control.seed([
      ebsPersistentVolume("pv-db", "vol-db", { namespace: "app", name: "data" }),
      claim("app", "data", "pv-db"),
      podWithClaims("app", "db-0", ["data"])
    ])
  }))
  yield* inCluster(world.target)(installLocations("ebs"))
  const blockStores = yield* BlockStoreProvider
  const hooks = yield* HookRunner
  const backup = yield* runBackup(makeBackup({ includedNamespaces: ["app"] }), {
    storageLocations: ["default"],
    volumes: { blockStores, hooks }
  }).pipe(
    Effect.provideService(KubeClient, world.source.client),
    Effect.provideService(ObjectStore, world.store)
  )
  assert.strictEqual(backup.status?.volumeSnapshotsCompleted, 1)
  return { world, backup, control, blockStores }
})

const testLayer = () => Layer.merge(MemoryBlockStores.layer(), MemoryHooksLayer.layer())

describe("restore of snapshotted volumes", () => {
  it.effect("creates a volume from the snapshot (same zone, type, IOPS), points the PV at it, and the mapped claim binds", () =>
    Effect.gen(function*() {
      const { world, backup, control, blockStores } = yield* backedUp
      const run = yield* executeRestore(makeRestore({ namespaceMapping: { app: "app2" } }), Option.some(backup), {
        volumes: { blockStores }
      }).pipe(
        Effect.provideService(KubeClient, world.target.client),
        Effect.provideService(ObjectStore, world.store)
      )
      assert.strictEqual(run.restore.status?.phase, "Completed")
      const [record] = yield* readSnapshotRecords("b1").pipe(Effect.provideService(ObjectStore, world.store))
      const volumes = [...(yield* control.volumes).values()].filter((volume) => volume.volumeId !== "vol-db")
      assert.lengthOf(volumes, 1)
      const created = volumes[0]!
      assert.deepStrictEqual(created, {
        volumeId: created.volumeId,
        availabilityZone: "us-east-1b",
        volumeType: "io2",
        iops: 4000,
        sizeGiB: 20
      })
      assert.notStrictEqual(record!.snapshotId, "")

      const pv = yield* world.target.client.get(PVS, "pv-db")
      const spec = pv["spec"] as { awsElasticBlockStore: { volumeID: string }; claimRef: Record<string, unknown> }
      assert.strictEqual(spec.awsElasticBlockStore.volumeID, created.volumeId)
      assert.deepStrictEqual(spec.claimRef, { kind: "PersistentVolumeClaim", namespace: "app2", name: "data" })
      const pvc = yield* world.target.client.get(PVCS, "data", "app2")
      assert.strictEqual((pvc["spec"] as { volumeName: string }).volumeName, "pv-db")
      // The source PV is untouched and still on its own volume.
      const source = yield* world.source.client.get(PVS, "pv-db")
      assert.include(JSON.stringify(source["spec"]), "vol-db")
    }).pipe(Effect.provide(testLayer())))

  it.effect("restorePVs false skips a snapshotted PV with a reason and creates no volume", () =>
    Effect.gen(function*() {
      const { world, backup, control, blockStores } = yield* backedUp
      const run = yield* executeRestore(makeRestore({ restorePVs: false }), Option.some(backup), {
        volumes: { blockStores }
      }).pipe(
        Effect.provideService(KubeClient, world.target.client),
        Effect.provideService(ObjectStore, world.store)
      )
      assert.strictEqual(run.restore.status?.phase, "Completed")
      assert.isTrue(run.counts.skipped >= 1)
      assert.strictEqual((yield* control.volumes).size, 1)
      const pv = yield* world.target.client.get(PVS, "pv-db").pipe(Effect.either)
      assert.isTrue(pv._tag === "Left" && pv.left._tag === "KubeNotFound")
      assert.strictEqual(
        ((yield* world.target.client.get(PVCS, "data", "app"))["spec"] as { volumeName: string }).volumeName,
        "pv-db"
      )
    }).pipe(Effect.provide(testLayer())))

  it.effect("a PV that still exists gets no new volume", () =>
    Effect.gen(function*() {
      const { world, backup, control, blockStores } = yield* backedUp
      const run = yield* executeRestore(makeRestore({}), Option.some(backup), { volumes: { blockStores } }).pipe(
        Effect.provideService(KubeClient, world.source.client),
        Effect.provideService(ObjectStore, world.store)
      )
      assert.notStrictEqual(run.restore.status?.phase, "Failed")
      assert.strictEqual((yield* control.volumes).size, 1)
    }).pipe(Effect.provide(testLayer())))

  it.effect("deleteBackupSnapshots deletes every snapshot the records name, through their locations", () =>
    Effect.gen(function*() {
      const { world, control, blockStores } = yield* backedUp
      const records = yield* readSnapshotRecords("b1").pipe(Effect.provideService(ObjectStore, world.store))
      assert.strictEqual((yield* control.snapshots).size, 1)
      const deletion = yield* deleteBackupSnapshots(records, blockStores, serverNamespace).pipe(
        Effect.provideService(KubeClient, world.source.client)
      )
      assert.deepStrictEqual(deletion, { deleted: [records[0]!.snapshotId], failures: [] })
      assert.strictEqual((yield* control.snapshots).size, 0)

      yield* control.failOperation("deleteSnapshot", "AccessDenied")
      const failed = yield* deleteBackupSnapshots(records, blockStores, serverNamespace).pipe(
        Effect.provideService(KubeClient, world.source.client)
      )
      assert.lengthOf(failed.failures, 1)
      assert.include(failed.failures[0], "AccessDenied")
    }).pipe(Effect.provide(testLayer())))
})
