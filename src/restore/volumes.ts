// A PV whose volume was snapshotted comes back on a new volume made from that snapshot (same zone,
// type and IOPS, through the location that took it), then the PV is created pointing at it. Its
// claimRef keeps the claim's name and mapped namespace, without the old uid (the transforms clear
// it), so the restored claim binds to it.
import { Effect, Either } from "effect"

import type { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { locationOpener } from "../volumes/locations.ts"
import type { VolumeSnapshotRecord } from "../volumes/records.ts"

export interface RestoreVolumeServices {
  readonly blockStores: BlockStoreProvider.Shape
}

export type PersistentVolumeDecision =
  | { readonly _tag: "Create"; readonly object: KubeObject; readonly note?: string }
  | { readonly _tag: "Skip"; readonly reason: string }
  | { readonly _tag: "Failed"; readonly message: string }

const PERSISTENT_VOLUMES: GroupVersionResource = { group: "", version: "v1", resource: "persistentvolumes" }

export interface PersistentVolumeRestorer {
  readonly decide: (desired: KubeObject) => Effect.Effect<PersistentVolumeDecision, never, KubeClient>
}

/**
 * How each PV of the backup is restored, from the backup's snapshot records. A PV that still
 * exists in the cluster gets no new volume: the restore compares it like any existing object.
 */
export const persistentVolumeRestorer = (
  records: ReadonlyArray<VolumeSnapshotRecord>,
  restorePVs: boolean,
  services: RestoreVolumeServices | undefined,
  namespace: string
): PersistentVolumeRestorer => {
  const completed = new Map(
    records.filter((record) => record.phase === "Completed").map((record) => [record.pvName, record])
  )
  const open = services === undefined ? undefined : locationOpener(services.blockStores, namespace)
  const decide = (desired: KubeObject) =>
    Effect.gen(function*() {
      const name = desired.metadata.name ?? ""
      const record = completed.get(name)
      if (record === undefined) return { _tag: "Create", object: desired } satisfies PersistentVolumeDecision
      if (!restorePVs) {
        return {
          _tag: "Skip",
          reason:
            `its volume was snapshotted and restorePVs is false, so it is not restored on its old volume: snapshot ${record.snapshotId}`
        } satisfies PersistentVolumeDecision
      }
      const kube = yield* KubeClient
      const live = yield* kube.get(PERSISTENT_VOLUMES, name).pipe(Effect.either)
      if (Either.isRight(live)) return { _tag: "Create", object: desired } satisfies PersistentVolumeDecision
      if (live.left._tag !== "KubeNotFound") {
        return {
          _tag: "Failed",
          message: `cannot check whether it exists: ${live.left.message}`
        } satisfies PersistentVolumeDecision
      }
      if (open === undefined) {
        return {
          _tag: "Failed",
          message: `its volume needs snapshot ${record.snapshotId}, but no block store is available to this restore`
        } satisfies PersistentVolumeDecision
      }
      const store = yield* open(record.location)
      if (Either.isLeft(store)) {
        return {
          _tag: "Failed",
          message: `its snapshot cannot be restored: ${store.left}`
        } satisfies PersistentVolumeDecision
      }
      const volumeId = yield* store.right.createVolumeFromSnapshot(
        record.snapshotId,
        record.volumeType,
        record.availabilityZone,
        record.iops
      ).pipe(
        Effect.either
      )
      if (Either.isLeft(volumeId)) {
        const reason = volumeId.left._tag === "SnapshotNotFound"
          ? `snapshot ${record.snapshotId} no longer exists`
          : volumeId.left.message
        return {
          _tag: "Failed",
          message: `creating a volume from snapshot ${record.snapshotId} failed: ${reason}`
        } satisfies PersistentVolumeDecision
      }
      const pointed = yield* store.right.setVolumeId(desired, volumeId.right).pipe(Effect.either)
      if (Either.isLeft(pointed)) {
        return {
          _tag: "Failed",
          message: `volume ${volumeId.right} was created but the PV cannot point at it: ${pointed.left.message}`
        } satisfies PersistentVolumeDecision
      }
      return {
        _tag: "Create",
        object: pointed.right,
        note: `volume ${volumeId.right} created from snapshot ${record.snapshotId} (location ${record.location})`
      } satisfies PersistentVolumeDecision
    })
  return { decide }
}
