import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as MemoryBlockStores from "../../layers/blockstore/MemoryProvider.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { deleteBackup } from "../../src/cli/backup/delete.ts"
import { createSnapshotLocation, getSnapshotLocations } from "../../src/cli/snapshots/location.ts"
import { volumeSnapshotLocationsGvr } from "../../src/volumes/locations.ts"
import { writeSnapshotRecords } from "../../src/volumes/records.ts"
import type { Harness } from "../cli/harness.ts"
import { backupsGvr, cliFailure, locationsGvr, makeHarness, putObject, run, serverNamespace } from "../cli/harness.ts"

const storageLocation: KubeObject = {
  apiVersion: "ark.heptio.com/v1",
  kind: "BackupStorageLocation",
  metadata: { name: "default", namespace: serverNamespace },
  spec: { provider: "aws", objectStorage: { bucket: "ark" }, accessMode: "ReadWrite" }
}

describe("ark snapshot-location", () => {
  it.effect("create submits a VolumeSnapshotLocation; get lists NAME PROVIDER CONFIG PHASE", () =>
    Effect.gen(function*() {
      const harness = yield* makeHarness()
      yield* run(harness, createSnapshotLocation({
        name: "ebs",
        namespace: serverNamespace,
        provider: "aws",
        config: Option.some([["region", "us-east-1"], ["ec2Url", "http://localhost:5000"]] as const)
      }))
      const created = yield* harness.kube.get(volumeSnapshotLocationsGvr, "ebs", serverNamespace)
      assert.deepStrictEqual(created["spec"], { provider: "aws", config: { region: "us-east-1", ec2Url: "http://localhost:5000" } })
      assert.include(harness.stdout[0] ?? "", 'Volume snapshot location "ebs" configured successfully')

      harness.stdout.length = 0
      yield* run(harness, getSnapshotLocations({ name: Option.none(), namespace: serverNamespace, output: "table" }))
      assert.match(harness.stdout[0] ?? "", /^NAME\s+PROVIDER\s+CONFIG\s+PHASE/)
      assert.match(harness.stdout[1] ?? "", /^ebs\s+aws\s+ec2Url=http:\/\/localhost:5000,region=us-east-1\s+Unknown/)

      const duplicate = yield* cliFailure(run(harness, createSnapshotLocation({ name: "ebs", namespace: serverNamespace, provider: "aws", config: Option.some([["region", "x"]] as const) })))
      assert.include(duplicate.message, "already exists")
      const missing = yield* cliFailure(run(harness, getSnapshotLocations({ name: Option.some("nope"), namespace: serverNamespace, output: "table" })))
      assert.strictEqual(missing.message, 'volume snapshot location "nope" not found in namespace heptio-ark')
      const noPath = yield* cliFailure(run(harness, createSnapshotLocation({ name: "disk", namespace: serverNamespace, provider: "local", config: Option.none() })))
      assert.include(noPath.message, "--config path=DIR")
    }))
})

/** A backup "nightly" with one snapshot in location ebs, its files in storage. */
const seedBackupWithSnapshot = (harness: Harness) =>
  Effect.gen(function*() {
    yield* harness.kube.create(locationsGvr, storageLocation)
    yield* harness.kube.create(volumeSnapshotLocationsGvr, {
      apiVersion: "ark.heptio.com/v1",
      kind: "VolumeSnapshotLocation",
      metadata: { name: "ebs", namespace: serverNamespace },
      spec: { provider: "aws", config: { region: "us-east-1" } }
    })
    yield* harness.kube.create(backupsGvr, {
      apiVersion: "ark.heptio.com/v1",
      kind: "Backup",
      metadata: { name: "nightly", namespace: serverNamespace },
      spec: { storageLocation: "default" }
    })
    const stores = yield* MemoryBlockStores.MemoryBlockStores
    const { control, store } = yield* stores.location("ebs")
    yield* control.addVolume({ volumeId: "vol-1", availabilityZone: "us-east-1a", volumeType: "gp3" })
    const snapshotId = yield* store.createSnapshot("vol-1", "us-east-1a", {})
    for (const file of ["nightly.tar.gz", "ark-backup.json"]) yield* putObject(harness.store, `backups/nightly/${file}`, new Uint8Array([1]))
    yield* writeSnapshotRecords("nightly", [{
      pvName: "pv-1",
      providerVolumeId: "vol-1",
      availabilityZone: "us-east-1a",
      volumeType: "gp3",
      snapshotId,
      location: "ebs",
      phase: "Completed"
    }]).pipe(Effect.provideService(ObjectStore, harness.store))
    harness.storeCalls.length = 0
    return control
  })

describe("ark backup delete with volume snapshots", () => {
  it.effect("deletes the snapshots after uncommitting, then the files and the resource", () =>
    Effect.gen(function*() {
      const harness = yield* makeHarness()
      const control = yield* seedBackupWithSnapshot(harness)
      const provider = yield* BlockStoreProvider
      yield* run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: true }).pipe(Effect.provideService(BlockStoreProvider, provider)))
      assert.strictEqual((yield* control.snapshots).size, 0)
      assert.strictEqual(harness.storeCalls[0], "delete backups/nightly/ark-backup.json")
      assert.lengthOf((yield* harness.store.list("backups/nightly/")).objects, 0)
      assert.isTrue((yield* Effect.either(harness.kube.get(backupsGvr, "nightly", serverNamespace)))._tag === "Left")
      assert.include(harness.stdout[0] ?? "", "and 1 volume snapshot.")
    }).pipe(Effect.provide(MemoryBlockStores.layer())))

  it.effect("a snapshot that cannot be deleted keeps the resource and the records, and says so", () =>
    Effect.gen(function*() {
      const harness = yield* makeHarness()
      const control = yield* seedBackupWithSnapshot(harness)
      yield* control.failOperation("deleteSnapshot", "UnauthorizedOperation")
      const provider = yield* BlockStoreProvider
      const error = yield* cliFailure(
        run(harness, deleteBackup({ name: "nightly", namespace: serverNamespace, confirm: true }).pipe(Effect.provideService(BlockStoreProvider, provider)))
      )
      assert.include(error.message, "UnauthorizedOperation")
      assert.strictEqual((yield* control.snapshots).size, 1)
      assert.isTrue((yield* Effect.either(harness.kube.get(backupsGvr, "nightly", serverNamespace)))._tag === "Right")
      assert.isTrue(yield* harness.store.exists("backups/nightly/nightly-volumesnapshots.json.gz"))
    }).pipe(Effect.provide(MemoryBlockStores.layer())))
})
