import { Context, DateTime, Effect, Layer, Option, Ref } from "effect"

import type { VolumeInfo } from "../../services/BlockStore.ts"
import { BlockStore, BlockStoreError, SnapshotNotFound, VolumeNotFound } from "../../services/BlockStore.ts"
import type { KubeObject } from "../../services/KubeClient.ts"

export interface MemoryBlockStoreConfig {
  /** IDs of volumes that exist from the start. */
  readonly volumes?: ReadonlyArray<VolumeInfo>
}

export interface MemorySnapshot {
  readonly snapshotId: string
  readonly volumeId: string
  readonly availabilityZone: string
  readonly volumeType: string
  readonly iops?: number
  readonly sizeGiB?: number
  readonly tags: Readonly<Record<string, string>>
  /** Clock time of the snapshot, so tests can order it against hooks. */
  readonly createdAtMillis: number
}

export type BlockStoreOperation = keyof BlockStore.Shape

/** Test handle on the fake: seed volumes, inspect what was snapshotted, make operations fail. */
export class MemoryBlockStore extends Context.Tag("ark/MemoryBlockStore")<MemoryBlockStore, {
  readonly addVolume: (volume: VolumeInfo) => Effect.Effect<void>
  readonly volumes: Effect.Effect<ReadonlyMap<string, VolumeInfo>>
  readonly snapshots: Effect.Effect<ReadonlyMap<string, MemorySnapshot>>
  /** Every later call of `operation` fails with a BlockStoreError carrying `message`, until cleared. */
  readonly failOperation: (operation: BlockStoreOperation, message: string) => Effect.Effect<void>
  readonly clearFailures: Effect.Effect<void>
}>() {}

const EBS_CSI_DRIVER = "ebs.csi.aws.com"

const record = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined

/** `aws://us-east-1a/vol-123` and `vol-123` both name vol-123. */
const stripAwsPrefix = (volumeId: string): string => volumeId.slice(volumeId.lastIndexOf("/") + 1)

/** Where a PV keeps its EBS volume ID: the in-tree source or the EBS CSI driver's handle. */
export const pvVolumeId = (pv: KubeObject): Option.Option<string> => {
  const spec = record(pv["spec"])
  const inTree = record(spec?.["awsElasticBlockStore"])
  if (typeof inTree?.["volumeID"] === "string") return Option.some(stripAwsPrefix(inTree["volumeID"]))
  const csi = record(spec?.["csi"])
  if (csi?.["driver"] === EBS_CSI_DRIVER && typeof csi["volumeHandle"] === "string") {
    return Option.some(csi["volumeHandle"])
  }
  return Option.none()
}

export const withPvVolumeId = (pv: KubeObject, volumeId: string): Option.Option<KubeObject> => {
  const spec = record(pv["spec"]) ?? {}
  const inTree = record(spec["awsElasticBlockStore"])
  if (inTree !== undefined) {
    return Option.some({ ...pv, spec: { ...spec, awsElasticBlockStore: { ...inTree, volumeID: volumeId } } })
  }
  const csi = record(spec["csi"])
  if (csi?.["driver"] === EBS_CSI_DRIVER) {
    return Option.some({ ...pv, spec: { ...spec, csi: { ...csi, volumeHandle: volumeId } } })
  }
  return Option.none()
}

interface State {
  readonly volumes: ReadonlyMap<string, VolumeInfo>
  readonly snapshots: ReadonlyMap<string, MemorySnapshot>
  readonly failures: ReadonlyMap<BlockStoreOperation, string>
  readonly nextId: number
}

export const make = (config: MemoryBlockStoreConfig = {}) =>
  Effect.gen(function*() {
    const state = yield* Ref.make<State>({
      volumes: new Map((config.volumes ?? []).map((volume) => [volume.volumeId, volume])),
      snapshots: new Map(),
      failures: new Map(),
      nextId: 1
    })

    const injected = (operation: BlockStoreOperation) =>
      Ref.get(state).pipe(
        Effect.flatMap(({ failures }) => {
          const message = failures.get(operation)
          return message === undefined ? Effect.void : Effect.fail(new BlockStoreError({ operation, message }))
        })
      )

    const nextId = (kind: "vol" | "snap") =>
      Ref.modify(state, (s) => [`${kind}-memory-${String(s.nextId).padStart(6, "0")}`, { ...s, nextId: s.nextId + 1 }])

    const getVolumeId = (pv: KubeObject) => injected("getVolumeId").pipe(Effect.as(pvVolumeId(pv)))

    const setVolumeId = (pv: KubeObject, volumeId: string) =>
      injected("setVolumeId").pipe(
        Effect.zipRight(Option.match(withPvVolumeId(pv, volumeId), {
          onNone: () =>
            Effect.fail(
              new BlockStoreError({
                operation: "setVolumeId",
                message: `persistent volume ${pv.metadata.name ?? ""} has no EBS volume source`
              })
            ),
          onSome: Effect.succeed
        }))
      )

    const getVolumeInfo = (volumeId: string, _availabilityZone?: string) =>
      injected("getVolumeInfo").pipe(
        Effect.zipRight(Ref.get(state)),
        Effect.flatMap(({ volumes }) => Option.fromNullable(volumes.get(volumeId))),
        Effect.catchTag("NoSuchElementException", () => Effect.fail(new VolumeNotFound({ volumeId })))
      )

    const createSnapshot = Effect.fn("MemoryBlockStore.createSnapshot")(function*(
      volumeId: string,
      availabilityZone: string,
      tags: Readonly<Record<string, string>>
    ) {
      yield* injected("createSnapshot")
      const volume = yield* getVolumeInfo(volumeId)
      const snapshotId = yield* nextId("snap")
      const createdAtMillis = DateTime.toEpochMillis(yield* DateTime.now)
      const snapshot: MemorySnapshot = {
        snapshotId,
        volumeId,
        availabilityZone,
        volumeType: volume.volumeType,
        ...(volume.iops === undefined ? {} : { iops: volume.iops }),
        ...(volume.sizeGiB === undefined ? {} : { sizeGiB: volume.sizeGiB }),
        tags: { ...tags },
        createdAtMillis
      }
      yield* Ref.update(state, (s) => ({ ...s, snapshots: new Map(s.snapshots).set(snapshotId, snapshot) }))
      return snapshotId
    })

    // Like EBS through Velero: deleting a snapshot that is already gone succeeds.
    const deleteSnapshot = (snapshotId: string) =>
      injected("deleteSnapshot").pipe(
        Effect.zipRight(Ref.update(state, (s) => {
          const snapshots = new Map(s.snapshots)
          snapshots.delete(snapshotId)
          return { ...s, snapshots }
        }))
      )

    const createVolumeFromSnapshot = Effect.fn("MemoryBlockStore.createVolumeFromSnapshot")(function*(
      snapshotId: string,
      volumeType: string,
      availabilityZone: string,
      iops?: number
    ) {
      yield* injected("createVolumeFromSnapshot")
      const snapshot = (yield* Ref.get(state)).snapshots.get(snapshotId)
      if (snapshot === undefined) return yield* new SnapshotNotFound({ snapshotId })
      const volumeId = yield* nextId("vol")
      const volume: VolumeInfo = {
        volumeId,
        availabilityZone,
        volumeType,
        ...(iops === undefined ? {} : { iops }),
        ...(snapshot.sizeGiB === undefined ? {} : { sizeGiB: snapshot.sizeGiB })
      }
      yield* Ref.update(state, (s) => ({ ...s, volumes: new Map(s.volumes).set(volumeId, volume) }))
      return volumeId
    })

    const store: BlockStore.Shape = {
      getVolumeId,
      setVolumeId,
      getVolumeInfo,
      createSnapshot,
      deleteSnapshot,
      createVolumeFromSnapshot
    }
    const control: MemoryBlockStore["Type"] = {
      addVolume: (volume) =>
        Ref.update(state, (s) => ({ ...s, volumes: new Map(s.volumes).set(volume.volumeId, volume) })),
      volumes: Ref.get(state).pipe(Effect.map((s) => s.volumes)),
      snapshots: Ref.get(state).pipe(Effect.map((s) => s.snapshots)),
      failOperation: (operation, message) =>
        Ref.update(state, (s) => ({ ...s, failures: new Map(s.failures).set(operation, message) })),
      clearFailures: Ref.update(state, (s) => ({ ...s, failures: new Map() }))
    }
    return { store, control }
  })

/** Provides the BlockStore and its MemoryBlockStore handle over the same state. */
export const layer = (config: MemoryBlockStoreConfig = {}): Layer.Layer<BlockStore | MemoryBlockStore> =>
  Layer.effectContext(
    make(config).pipe(
      Effect.map(({ store, control }) => Context.make(BlockStore, store).pipe(Context.add(MemoryBlockStore, control)))
    )
  )
