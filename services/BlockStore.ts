import type { Effect, Option } from "effect"
import { Context, Data } from "effect"

import type { KubeObject } from "./KubeClient.ts"

export interface VolumeInfo {
  readonly volumeId: string
  readonly availabilityZone: string
  readonly volumeType: string
  readonly iops?: number
  readonly sizeGiB?: number
}

export class VolumeNotFound extends Data.TaggedError("VolumeNotFound")<{ readonly volumeId: string }> {}
export class SnapshotNotFound extends Data.TaggedError("SnapshotNotFound")<{ readonly snapshotId: string }> {}
export class BlockStoreError extends Data.TaggedError("BlockStoreError")<{
  readonly operation: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** Disk snapshots of persistent volumes, through a cloud provider or a local directory store. */
export class BlockStore extends Context.Tag("ark/BlockStore")<BlockStore, BlockStore.Shape>() {}

export declare namespace BlockStore {
  export interface Shape {
    /** The provider's volume ID of a PersistentVolume, or None when this store cannot serve it. */
    readonly getVolumeId: (pv: KubeObject) => Effect.Effect<Option.Option<string>, BlockStoreError>
    /** The PersistentVolume pointed at another volume of this provider. */
    readonly setVolumeId: (pv: KubeObject, volumeId: string) => Effect.Effect<KubeObject, BlockStoreError>
    readonly getVolumeInfo: (
      volumeId: string,
      availabilityZone?: string
    ) => Effect.Effect<VolumeInfo, VolumeNotFound | BlockStoreError>
    /** Snapshots the volume and waits until the snapshot is complete; returns its ID. */
    readonly createSnapshot: (
      volumeId: string,
      availabilityZone: string,
      tags: Readonly<Record<string, string>>
    ) => Effect.Effect<string, VolumeNotFound | BlockStoreError>
    readonly deleteSnapshot: (snapshotId: string) => Effect.Effect<void, BlockStoreError>
    readonly createVolumeFromSnapshot: (
      snapshotId: string,
      volumeType: string,
      availabilityZone: string,
      iops?: number
    ) => Effect.Effect<string, SnapshotNotFound | BlockStoreError>
  }
}
