// The EBS BlockStore over a scripted EC2 API, on the TestClock: readiness polling with backoff and
// a timeout, error mapping, throttling retries, tags, and restored volumes' type, zone and IOPS.
import type { CreateVolumeCommandInput, Snapshot, Volume } from "@aws-sdk/client-ec2"
import { VolumeType } from "@aws-sdk/client-ec2"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, TestClock } from "effect"

import * as EbsBlockStore from "../../layers/blockstore/Ebs.ts"
import type { KubeObject } from "../../services/KubeClient.ts"

const ec2Error = (code: string, status = 400) =>
  Object.assign(new Error(`${code} (scripted)`), { name: code, $metadata: { httpStatusCode: status } })

const meta = { $metadata: {} }

/** A scripted EC2: volumes and snapshots whose states advance one step per describe call. */
const fakeEc2 = (options: {
  readonly volumes?: ReadonlyArray<Volume>
  /** The states a new snapshot reports, one per DescribeSnapshots; the last one repeats. */
  readonly snapshotStates?: ReadonlyArray<Snapshot["State"]>
  readonly volumeStates?: ReadonlyArray<Volume["State"]>
  /** DescribeVolumes throttles this many times first. */
  readonly throttle?: number
}) => {
  const volumes = new Map((options.volumes ?? []).map((v) => [v.VolumeId ?? "", v]))
  const snapshots = new Map<string, { snapshot: Snapshot; polls: number }>()
  const created = new Map<string, { volume: Volume; polls: number }>()
  const calls: Array<string> = []
  const createVolumeInputs: Array<CreateVolumeCommandInput> = []
  let throttle = options.throttle ?? 0
  let next = 1
  const stateAt = <S>(states: ReadonlyArray<S> | undefined, polls: number, otherwise: S): S =>
    states === undefined || states.length === 0 ? otherwise : states[Math.min(polls, states.length - 1)] ?? otherwise

  const api: EbsBlockStore.Ec2Api = {
    volumeTypes: new Set<string>(Object.values(VolumeType)),
    describeVolumes: async (input) => {
      calls.push("DescribeVolumes")
      if (throttle > 0) {
        throttle -= 1
        throw ec2Error("RequestLimitExceeded", 503)
      }
      const id = input.VolumeIds?.[0] ?? ""
      const fresh = created.get(id)
      if (fresh !== undefined) {
        const state = stateAt(options.volumeStates, fresh.polls++, "available")
        return { ...meta, Volumes: [{ ...fresh.volume, State: state }] }
      }
      const volume = volumes.get(id)
      if (volume === undefined) throw ec2Error("InvalidVolume.NotFound")
      return { ...meta, Volumes: [volume] }
    },
    describeSnapshots: async (input) => {
      calls.push("DescribeSnapshots")
      const entry = snapshots.get(input.SnapshotIds?.[0] ?? "")
      if (entry === undefined) throw ec2Error("InvalidSnapshot.NotFound")
      const state = stateAt(options.snapshotStates, entry.polls++, "completed")
      return {
        ...meta,
        Snapshots: [{ ...entry.snapshot, State: state, ...(state === "error" ? { StateMessage: "disk on fire" } : {}) }]
      }
    },
    createSnapshot: async (input) => {
      calls.push("CreateSnapshot")
      if (!volumes.has(input.VolumeId ?? "")) throw ec2Error("InvalidVolume.NotFound")
      const SnapshotId = `snap-${next++}`
      snapshots.set(SnapshotId, {
        snapshot: {
          SnapshotId,
          VolumeId: input.VolumeId,
          State: "pending",
          Tags: input.TagSpecifications?.[0]?.Tags ?? []
        },
        polls: 0
      })
      return { ...meta, SnapshotId, State: "pending" }
    },
    deleteSnapshot: async (input) => {
      calls.push("DeleteSnapshot")
      if (!snapshots.delete(input.SnapshotId ?? "")) throw ec2Error("InvalidSnapshot.NotFound")
      return meta
    },
    createVolume: async (input) => {
      calls.push("CreateVolume")
      createVolumeInputs.push(input)
      if (!snapshots.has(input.SnapshotId ?? "")) throw ec2Error("InvalidSnapshot.NotFound")
      const VolumeId = `vol-new-${next++}`
      created.set(VolumeId, {
        volume: {
          VolumeId,
          AvailabilityZone: input.AvailabilityZone,
          VolumeType: input.VolumeType,
          Iops: input.Iops ?? 100,
          Size: 10
        },
        polls: 0
      })
      return { ...meta, VolumeId, State: "creating" }
    }
  }
  return { api, calls, snapshots, createVolumeInputs }
}

const volume: Volume = {
  VolumeId: "vol-0abc",
  AvailabilityZone: "us-east-1a",
  VolumeType: "gp3",
  Iops: 4000,
  Size: 20,
  State: "in-use",
  Tags: [{ Key: "team", Value: "db" }, { Key: "aws:cloudformation:stack-name", Value: "reserved" }]
}

const config = {
  region: "us-east-1",
  readyTimeout: "2 minutes",
  pollInitial: "1 second",
  pollMax: "8 seconds"
} as const

/** Runs `effect` while the TestClock advances a second at a time, until it finishes. */
const withClock = <A, E>(effect: Effect.Effect<A, E>, maxSeconds = 600) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let second = 0; second < maxSeconds; second++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) break
      yield* TestClock.adjust("1 second")
    }
    const elapsed = yield* TestClock.currentTimeMillis
    return { exit: yield* Fiber.await(fiber), seconds: elapsed / 1000 }
  })

describe("EBS BlockStore", () => {
  it.effect("snapshots a volume with its own tags and the caller's, polling with backoff until completed", () =>
    Effect.gen(function*() {
      const ec2 = fakeEc2({
        volumes: [volume],
        snapshotStates: ["pending", "pending", "pending", "pending", "completed"]
      })
      const store = EbsBlockStore.makeWithApi(ec2.api, config)
      const { exit, seconds } = yield* withClock(
        store.createSnapshot("vol-0abc", "us-east-1a", {
          "ark.heptio.com/backup": "b1",
          "ark.heptio.com/pv": "pv-1",
          team: "ark"
        })
      )
      assert.deepStrictEqual(exit, Exit.succeed("snap-1"))
      const tags = ec2.snapshots.get("snap-1")?.snapshot.Tags ?? []
      assert.deepStrictEqual(
        Object.fromEntries(tags.map((t) => [t.Key, t.Value])),
        { team: "ark", "ark.heptio.com/backup": "b1", "ark.heptio.com/pv": "pv-1" }
      )
      assert.deepStrictEqual(ec2.calls.filter((c) => c === "DescribeSnapshots").length, 5)
      // Pauses of 1, 2, 4 and 8 seconds: 15 s, give or take the one-second steps of the clock.
      assert.isTrue(seconds >= 14 && seconds <= 17, `${seconds} s`)
    }))

  it.effect("caps the pause between polls", () =>
    Effect.gen(function*() {
      const ec2 = fakeEc2({
        volumes: [volume],
        snapshotStates: [...Array.from({ length: 8 }, () => "pending" as const), "completed"]
      })
      const store = EbsBlockStore.makeWithApi(ec2.api, config)
      const { exit, seconds } = yield* withClock(store.createSnapshot("vol-0abc", "us-east-1a", {}))
      assert.isTrue(Exit.isSuccess(exit))
      // 1 + 2 + 4 + 8, then four more pauses of at most 8 s.
      assert.isTrue(seconds >= 46 && seconds <= 49, `${seconds} s`)
    }))

  it.effect("a snapshot in the error state fails and is deleted", () =>
    Effect.gen(function*() {
      const ec2 = fakeEc2({ volumes: [volume], snapshotStates: ["pending", "error"] })
      const store = EbsBlockStore.makeWithApi(ec2.api, config)
      const { exit } = yield* withClock(Effect.flip(store.createSnapshot("vol-0abc", "us-east-1a", {})))
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) {
        assert.strictEqual(exit.value._tag, "BlockStoreError")
        assert.include(
          exit.value._tag === "BlockStoreError" ? exit.value.message : "",
          "ended in state error: disk on fire"
        )
      }
      assert.isFalse(ec2.snapshots.has("snap-1"))
    }))

  it.effect("a snapshot still pending at the ready timeout fails and is deleted", () =>
    Effect.gen(function*() {
      const ec2 = fakeEc2({ volumes: [volume], snapshotStates: ["pending"] })
      const store = EbsBlockStore.makeWithApi(ec2.api, config)
      const { exit, seconds } = yield* withClock(Effect.flip(store.createSnapshot("vol-0abc", "us-east-1a", {})))
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) {
        assert.strictEqual(exit.value._tag, "BlockStoreError")
        assert.include(exit.value._tag === "BlockStoreError" ? exit.value.message : "", "not ready after 2m")
      }
      assert.isTrue(seconds >= 120 && seconds <= 122, `${seconds} s`)
      assert.isFalse(ec2.snapshots.has("snap-1"))
    }))

  it.effect("retries throttled calls", () =>
    Effect.gen(function*() {
      const ec2 = fakeEc2({ volumes: [volume], throttle: 2 })
      const store = EbsBlockStore.makeWithApi(ec2.api, config)
      const { exit } = yield* withClock(store.getVolumeInfo("vol-0abc"))
      assert.deepStrictEqual(
        exit,
        Exit.succeed({
          volumeId: "vol-0abc",
          availabilityZone: "us-east-1a",
          volumeType: "gp3",
          iops: 4000,
          sizeGiB: 20
        })
      )
      assert.strictEqual(ec2.calls.length, 3)
    }))

  it.effect("maps EC2 not-found codes onto the port's errors; deleting a missing snapshot succeeds", () =>
    Effect.gen(function*() {
      const ec2 = fakeEc2({ volumes: [volume] })
      const store = EbsBlockStore.makeWithApi(ec2.api, config)
      const info = yield* Effect.flip(store.getVolumeInfo("vol-gone"))
      assert.deepStrictEqual(info._tag === "VolumeNotFound" ? info.volumeId : info._tag, "vol-gone")
      const snapshot = yield* Effect.flip(store.createSnapshot("vol-gone", "us-east-1a", {}))
      assert.strictEqual(snapshot._tag, "VolumeNotFound")
      const restore = yield* Effect.flip(store.createVolumeFromSnapshot("snap-gone", "gp3", "us-east-1a", 3000))
      assert.deepStrictEqual(restore._tag === "SnapshotNotFound" ? restore.snapshotId : restore._tag, "snap-gone")
      yield* store.deleteSnapshot("snap-gone")
      const badType = yield* Effect.flip(store.createVolumeFromSnapshot("snap-1", "floppy", "us-east-1a"))
      assert.strictEqual(badType._tag, "BlockStoreError")
    }))

  it.effect("restores a volume in the given zone with the original type; IOPS only where provisioned", () =>
    Effect.gen(function*() {
      const ec2 = fakeEc2({ volumes: [volume], volumeStates: ["creating", "creating", "available"] })
      const store = EbsBlockStore.makeWithApi(ec2.api, config)
      const snapshotId =
        (yield* withClock(store.createSnapshot("vol-0abc", "us-east-1a", { "ark.heptio.com/backup": "b1" }))).exit
      assert.deepStrictEqual(snapshotId, Exit.succeed("snap-1"))

      const gp3 = yield* withClock(store.createVolumeFromSnapshot("snap-1", "gp3", "us-east-1a", 4000))
      assert.deepStrictEqual(gp3.exit, Exit.succeed("vol-new-2"))
      const gp2 = yield* withClock(store.createVolumeFromSnapshot("snap-1", "gp2", "us-east-1b", 100))
      assert.isTrue(Exit.isSuccess(gp2.exit))
      const [first, second] = ec2.createVolumeInputs
      assert.deepStrictEqual(
        { ...first, TagSpecifications: undefined },
        {
          SnapshotId: "snap-1",
          AvailabilityZone: "us-east-1a",
          VolumeType: "gp3",
          Iops: 4000,
          TagSpecifications: undefined
        }
      )
      // The snapshot's tags follow it onto the volume.
      assert.deepStrictEqual(first?.TagSpecifications?.[0]?.Tags?.map((t) => t.Key).sort(), [
        "ark.heptio.com/backup",
        "team"
      ])
      assert.strictEqual(second?.VolumeType, "gp2")
      assert.strictEqual(second?.AvailabilityZone, "us-east-1b")
      assert.isUndefined(second?.Iops)
    }))
})

describe("EBS volume IDs in PersistentVolumes", () => {
  const pv = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv-1" },
    spec
  })

  it("reads in-tree and EBS CSI volumes only", () => {
    assert.deepStrictEqual(
      EbsBlockStore.ebsVolumeId(pv({ awsElasticBlockStore: { volumeID: "aws://us-east-1a/vol-1" } })),
      Option.some("vol-1")
    )
    assert.deepStrictEqual(
      EbsBlockStore.ebsVolumeId(pv({ awsElasticBlockStore: { volumeID: "vol-2" } })),
      Option.some("vol-2")
    )
    assert.deepStrictEqual(
      EbsBlockStore.ebsVolumeId(pv({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-3" } })),
      Option.some("vol-3")
    )
    assert.deepStrictEqual(
      EbsBlockStore.ebsVolumeId(pv({ csi: { driver: "efs.csi.aws.com", volumeHandle: "fs-1" } })),
      Option.none()
    )
    assert.deepStrictEqual(EbsBlockStore.ebsVolumeId(pv({ hostPath: { path: "/data" } })), Option.none())
  })

  it("keeps the aws://zone/ form, writes plain IDs and CSI handles as they were", () => {
    const zoned = EbsBlockStore.withEbsVolumeId(
      pv({ awsElasticBlockStore: { volumeID: "aws://us-east-1a/vol-1", fsType: "ext4" } }),
      "vol-9"
    )
    assert.deepStrictEqual(
      Option.map(zoned, (p) => p["spec"]),
      Option.some({ awsElasticBlockStore: { volumeID: "aws://us-east-1a/vol-9", fsType: "ext4" } })
    )
    const plain = EbsBlockStore.withEbsVolumeId(pv({ awsElasticBlockStore: { volumeID: "vol-1" } }), "vol-9")
    assert.deepStrictEqual(
      Option.map(plain, (p) => p["spec"]),
      Option.some({ awsElasticBlockStore: { volumeID: "vol-9" } })
    )
    const csi = EbsBlockStore.withEbsVolumeId(
      pv({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-1", fsType: "xfs" } }),
      "vol-9"
    )
    assert.deepStrictEqual(
      Option.map(csi, (p) => p["spec"]),
      Option.some({ csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-9", fsType: "xfs" } })
    )
    assert.isTrue(Option.isNone(EbsBlockStore.withEbsVolumeId(pv({ nfs: { server: "x", path: "/" } }), "vol-9")))
  })
})
