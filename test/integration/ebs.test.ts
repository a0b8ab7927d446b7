// The EBS BlockStore against a real EC2 API (moto from the test environment): snapshots tagged and
// completed, volumes restored in the same zone with type and IOPS, PVs pointed at them.
import { randomUUID } from "node:crypto"

import { CreateVolumeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client } from "@aws-sdk/client-ec2"
import { assert, describe, it } from "@effect/vitest"
import { Config, Effect, Option, Redacted } from "effect"

import * as EbsBlockStore from "../../layers/blockstore/Ebs.ts"
import type { KubeObject } from "../../services/KubeClient.ts"

/** Fails (never skips) when the environment does not name an EC2 endpoint. */
const ebsConfig = Effect.gen(function*() {
  const ec2Url = yield* Config.string("ARK_TEST_EC2_URL")
  const region = yield* Config.string("AWS_REGION")
  const accessKeyId = yield* Config.string("AWS_ACCESS_KEY_ID")
  const secretAccessKey = yield* Config.redacted("AWS_SECRET_ACCESS_KEY")
  return {
    ec2Url,
    region,
    credentials: { accessKeyId, secretAccessKey },
    readyTimeout: "1 minute"
  } satisfies EbsBlockStore.EbsConfig
}).pipe(
  Effect.orDieWith((error) =>
    new Error(`EBS integration tests need ARK_TEST_EC2_URL, AWS_REGION and AWS credentials: ${error}`)
  )
)

/** A raw SDK client for arranging and checking, independent of the store under test. */
const ec2Client = Effect.gen(function*() {
  const config = yield* ebsConfig
  return yield* Effect.acquireRelease(
    Effect.sync(() =>
      new EC2Client({
        region: config.region,
        endpoint: config.ec2Url,
        credentials: {
          accessKeyId: config.credentials.accessKeyId,
          secretAccessKey: Redacted.value(config.credentials.secretAccessKey)
        }
      })
    ),
    (client) => Effect.sync(() => client.destroy())
  )
})

const store = Effect.flatMap(ebsConfig, (config) => EbsBlockStore.make(config))

const pv = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name },
  spec: { capacity: { storage: "20Gi" }, accessModes: ["ReadWriteOnce"], ...spec }
})

const tagsOf = (tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined) =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]))

describe("EBS BlockStore on moto", () => {
  it.live("snapshots a PV's volume with tags, restores it in the same zone with type and IOPS, and deletes the snapshot", () =>
    Effect.gen(function*() {
      const client = yield* ec2Client
      const ebs = yield* store
      const run = randomUUID().slice(0, 8)
      const backup = `b-${run}`
      const pvName = `pv-${run}`

      const created = yield* Effect.promise(() =>
        client.send(
          new CreateVolumeCommand({
            AvailabilityZone: "us-east-1a",
            Size: 20,
            VolumeType: "gp3",
            Iops: 4000,
            TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "team", Value: run }] }]
          })
        )
      )
      const volumeId = created.VolumeId ?? ""
      assert.match(volumeId, /^vol-/)
      const original = pv(pvName, {
        awsElasticBlockStore: { volumeID: `aws://us-east-1a/${volumeId}`, fsType: "ext4" }
      })

      assert.deepStrictEqual(yield* ebs.getVolumeId(original), Option.some(volumeId))
      const info = yield* ebs.getVolumeInfo(volumeId)
      assert.deepStrictEqual(
        { az: info.availabilityZone, type: info.volumeType, iops: info.iops, size: info.sizeGiB },
        { az: "us-east-1a", type: "gp3", iops: 4000, size: 20 }
      )

      const snapshotId = yield* ebs.createSnapshot(volumeId, info.availabilityZone, {
        "ark.heptio.com/backup": backup,
        "ark.heptio.com/pv": pvName
      })
      const described = yield* Effect.promise(() =>
        client.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))
      )
      const snapshot = described.Snapshots?.[0]
      assert.strictEqual(snapshot?.State, "completed")
      assert.strictEqual(snapshot?.VolumeId, volumeId)
      assert.deepStrictEqual(tagsOf(snapshot?.Tags), {
        "ark.heptio.com/backup": backup,
        "ark.heptio.com/pv": pvName,
        team: run
      })

      const restoredId = yield* ebs.createVolumeFromSnapshot(
        snapshotId,
        info.volumeType,
        info.availabilityZone,
        info.iops
      )
      assert.notStrictEqual(restoredId, volumeId)
      const restored = (yield* Effect.promise(() =>
        client.send(new DescribeVolumesCommand({ VolumeIds: [restoredId] }))
      )).Volumes?.[0]
      assert.deepStrictEqual(
        {
          az: restored?.AvailabilityZone,
          type: restored?.VolumeType,
          iops: restored?.Iops,
          snapshot: restored?.SnapshotId,
          state: restored?.State
        },
        { az: "us-east-1a", type: "gp3", iops: 4000, snapshot: snapshotId, state: "available" }
      )
      assert.strictEqual(tagsOf(restored?.Tags)["ark.heptio.com/backup"], backup)

      const moved = yield* ebs.setVolumeId(original, restoredId)
      assert.deepStrictEqual(moved["spec"], {
        capacity: { storage: "20Gi" },
        accessModes: ["ReadWriteOnce"],
        awsElasticBlockStore: { volumeID: `aws://us-east-1a/${restoredId}`, fsType: "ext4" }
      })
      assert.deepStrictEqual(yield* ebs.getVolumeId(moved), Option.some(restoredId))

      yield* ebs.deleteSnapshot(snapshotId)
      const gone = yield* Effect.tryPromise(() =>
        client.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))
      ).pipe(Effect.flip)
      assert.include(String(gone.cause), "InvalidSnapshot.NotFound")
      // Deleting again is not an error: deletion may be retried.
      yield* ebs.deleteSnapshot(snapshotId)
      const restoreGone = yield* Effect.flip(ebs.createVolumeFromSnapshot(snapshotId, "gp3", "us-east-1a", 4000))
      assert.strictEqual(restoreGone._tag, "SnapshotNotFound")
    }).pipe(Effect.scoped))

  it.live("reads and rewrites CSI PVs of the EBS driver; a missing volume is not found", () =>
    Effect.gen(function*() {
      const client = yield* ec2Client
      const ebs = yield* store
      const created = yield* Effect.promise(() =>
        client.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1b", Size: 5, VolumeType: "gp2" }))
      )
      const volumeId = created.VolumeId ?? ""
      const csiPv = pv(`pv-csi-${randomUUID().slice(0, 8)}`, {
        csi: { driver: "ebs.csi.aws.com", volumeHandle: volumeId, fsType: "ext4" }
      })
      assert.deepStrictEqual(yield* ebs.getVolumeId(csiPv), Option.some(volumeId))
      const info = yield* ebs.getVolumeInfo(volumeId)
      assert.deepStrictEqual({ az: info.availabilityZone, type: info.volumeType }, { az: "us-east-1b", type: "gp2" })

      const snapshotId = yield* ebs.createSnapshot(volumeId, info.availabilityZone, { "ark.heptio.com/backup": "csi" })
      const restoredId = yield* ebs.createVolumeFromSnapshot(
        snapshotId,
        info.volumeType,
        info.availabilityZone,
        info.iops
      )
      const restored = (yield* Effect.promise(() =>
        client.send(new DescribeVolumesCommand({ VolumeIds: [restoredId] }))
      )).Volumes?.[0]
      assert.deepStrictEqual({ az: restored?.AvailabilityZone, type: restored?.VolumeType }, {
        az: "us-east-1b",
        type: "gp2"
      })
      const moved = yield* ebs.setVolumeId(csiPv, restoredId)
      assert.deepStrictEqual(moved["spec"], {
        capacity: { storage: "20Gi" },
        accessModes: ["ReadWriteOnce"],
        csi: { driver: "ebs.csi.aws.com", volumeHandle: restoredId, fsType: "ext4" }
      })
      yield* ebs.deleteSnapshot(snapshotId)

      const missing = yield* Effect.flip(ebs.getVolumeInfo("vol-0123456789abcdef0"))
      assert.strictEqual(missing._tag, "VolumeNotFound")
      const snapshotMissing = yield* Effect.flip(ebs.createSnapshot("vol-0123456789abcdef0", "us-east-1a", {}))
      assert.strictEqual(snapshotMissing._tag, "VolumeNotFound")
    }).pipe(Effect.scoped))
})
