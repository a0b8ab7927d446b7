import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"

import * as MemoryBlockStoreLayer from "../../layers/blockstore/Memory.ts"
import { MemoryBlockStore } from "../../layers/blockstore/Memory.ts"
import { BlockStore } from "../../services/BlockStore.ts"
import type { KubeObject } from "../../services/KubeClient.ts"

const pv = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name: "pv-1" },
  spec: { capacity: { storage: "10Gi" }, ...spec }
})

const volume = { volumeId: "vol-0abc", availabilityZone: "us-east-1a", volumeType: "gp3", iops: 3000, sizeGiB: 10 }

describe("Memory BlockStore", () => {
  it.effect("reads the volume ID from the in-tree EBS source, stripping aws://zone/", () =>
    Effect.gen(function*() {
      const store = yield* BlockStore
      assert.deepStrictEqual(
        yield* store.getVolumeId(
          pv({ awsElasticBlockStore: { volumeID: "aws://us-east-1a/vol-0abc", fsType: "ext4" } })
        ),
        Option.some("vol-0abc")
      )
      assert.deepStrictEqual(
        yield* store.getVolumeId(pv({ awsElasticBlockStore: { volumeID: "vol-0abc" } })),
        Option.some("vol-0abc")
      )
    }).pipe(Effect.provide(MemoryBlockStoreLayer.layer())))

  it.effect("reads the EBS CSI volume handle, and nothing from other drivers or sources", () =>
    Effect.gen(function*() {
      const store = yield* BlockStore
      assert.deepStrictEqual(
        yield* store.getVolumeId(pv({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-0def" } })),
        Option.some("vol-0def")
      )
      assert.deepStrictEqual(
        yield* store.getVolumeId(pv({ csi: { driver: "efs.csi.aws.com", volumeHandle: "fs-1" } })),
        Option.none()
      )
      assert.deepStrictEqual(yield* store.getVolumeId(pv({ hostPath: { path: "/data" } })), Option.none())
      assert.deepStrictEqual(
        yield* store.getVolumeId({ apiVersion: "v1", kind: "PersistentVolume", metadata: {} }),
        Option.none()
      )
    }).pipe(Effect.provide(MemoryBlockStoreLayer.layer())))

  it.effect("setVolumeId writes the field getVolumeId reads and leaves the rest alone", () =>
    Effect.gen(function*() {
      const store = yield* BlockStore
      const inTree = pv({ awsElasticBlockStore: { volumeID: "aws://us-east-1a/vol-old", fsType: "ext4" } })
      const moved = yield* store.setVolumeId(inTree, "vol-new")
      assert.deepStrictEqual(moved["spec"], {
        capacity: { storage: "10Gi" },
        awsElasticBlockStore: { volumeID: "vol-new", fsType: "ext4" }
      })
      assert.deepStrictEqual(yield* store.getVolumeId(moved), Option.some("vol-new"))
      const csi = yield* store.setVolumeId(
        pv({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-old" } }),
        "vol-new"
      )
      assert.deepStrictEqual(yield* store.getVolumeId(csi), Option.some("vol-new"))
      const error = yield* Effect.flip(store.setVolumeId(pv({ hostPath: { path: "/x" } }), "vol-new"))
      assert.strictEqual(error.operation, "setVolumeId")
    }).pipe(Effect.provide(MemoryBlockStoreLayer.layer())))

  it.effect("snapshots a known volume with its tags and clock time, and restores a new volume from it", () =>
    Effect.gen(function*() {
      const store = yield* BlockStore
      const control = yield* MemoryBlockStore
      yield* control.addVolume(volume)
      yield* TestClock.adjust("42 seconds")
      const snapshotId = yield* store.createSnapshot("vol-0abc", "us-east-1a", { "ark.heptio.com/backup": "b1" })
      const snapshot = (yield* control.snapshots).get(snapshotId)
      assert.deepStrictEqual(snapshot, {
        snapshotId,
        volumeId: "vol-0abc",
        availabilityZone: "us-east-1a",
        volumeType: "gp3",
        iops: 3000,
        sizeGiB: 10,
        tags: { "ark.heptio.com/backup": "b1" },
        createdAtMillis: 42000
      })
      const restored = yield* store.createVolumeFromSnapshot(snapshotId, "io1", "us-east-1b", 500)
      assert.notStrictEqual(restored, "vol-0abc")
      assert.deepStrictEqual(yield* store.getVolumeInfo(restored), {
        volumeId: restored,
        availabilityZone: "us-east-1b",
        volumeType: "io1",
        iops: 500,
        sizeGiB: 10
      })
      assert.strictEqual((yield* control.volumes).size, 2)
    }).pipe(Effect.provide(MemoryBlockStoreLayer.layer())))

  it.effect("unknown volumes and snapshots are typed errors; deleting a snapshot is idempotent", () =>
    Effect.gen(function*() {
      const store = yield* BlockStore
      const control = yield* MemoryBlockStore
      assert.strictEqual((yield* Effect.flip(store.getVolumeInfo("vol-missing")))._tag, "VolumeNotFound")
      assert.strictEqual(
        (yield* Effect.flip(store.createSnapshot("vol-missing", "us-east-1a", {})))._tag,
        "VolumeNotFound"
      )
      assert.strictEqual(
        (yield* Effect.flip(store.createVolumeFromSnapshot("snap-missing", "gp3", "us-east-1a")))._tag,
        "SnapshotNotFound"
      )
      const snapshotId = yield* store.createSnapshot("vol-0abc", "us-east-1a", {})
      yield* store.deleteSnapshot(snapshotId)
      yield* store.deleteSnapshot(snapshotId)
      assert.strictEqual((yield* control.snapshots).size, 0)
    }).pipe(Effect.provide(MemoryBlockStoreLayer.layer({ volumes: [volume] }))))

  it.effect("an injected failure fails that operation until cleared", () =>
    Effect.gen(function*() {
      const store = yield* BlockStore
      const control = yield* MemoryBlockStore
      yield* control.failOperation("createSnapshot", "RequestLimitExceeded")
      const error = yield* Effect.flip(store.createSnapshot("vol-0abc", "us-east-1a", {}))
      assert.strictEqual(error._tag, "BlockStoreError")
      if (error._tag === "BlockStoreError") assert.strictEqual(error.message, "RequestLimitExceeded")
      yield* control.clearFailures
      assert.isTrue((yield* store.createSnapshot("vol-0abc", "us-east-1a", {})).length > 0)
    }).pipe(Effect.provide(MemoryBlockStoreLayer.layer({ volumes: [volume] }))))
})
