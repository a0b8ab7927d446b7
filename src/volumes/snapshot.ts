// One PersistentVolume's snapshot: the first location whose store recognises the volume takes it.
import { Effect, Option } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import type { SnapshotStore } from "./locations.ts"
import type { VolumeSnapshotRecord } from "./records.ts"

export const backupTag = "ark.heptio.com/backup"
export const pvTag = "ark.heptio.com/pv"

/** Zone labels of a PV, newest first; the provider needs the zone to find the volume. */
const zoneLabels = ["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"] as const

export const pvZone = (pv: KubeObject): string | undefined => {
  const labels = pv.metadata.labels ?? {}
  for (const label of zoneLabels) {
    const zone = labels[label]
    if (zone !== undefined && zone !== "") return zone
  }
  return undefined
}

export type SnapshotOutcome =
  | { readonly _tag: "Taken"; readonly record: VolumeSnapshotRecord }
  /** The snapshot was attempted and failed: an error of the backup. */
  | { readonly _tag: "Failed"; readonly record: VolumeSnapshotRecord }
  /** No location recognises the volume: a warning, the PV is not skipped silently. */
  | { readonly _tag: "Unsupported"; readonly reason: string }
  /** A store could not even tell whether it serves the volume. */
  | { readonly _tag: "Error"; readonly message: string }

/** Snapshots one PV through the first store that serves it; never fails. */
export const snapshotPersistentVolume = Effect.fn("Volumes.snapshot")(function*(
  pv: KubeObject,
  stores: ReadonlyArray<SnapshotStore>,
  backupName: string
) {
  const pvName = pv.metadata.name ?? ""
  for (const { location, store } of stores) {
    const volumeId = yield* store.getVolumeId(pv).pipe(Effect.either)
    if (volumeId._tag === "Left") {
      return {
        _tag: "Error",
        message: `volume snapshot location "${location}" cannot read the volume: ${volumeId.left.message}`
      } satisfies SnapshotOutcome
    }
    if (Option.isNone(volumeId.right)) continue
    const providerVolumeId = volumeId.right.value
    const base = { pvName, providerVolumeId, location }
    const failed = (
      error: { readonly message: string },
      info?: { readonly availabilityZone: string; readonly volumeType: string }
    ): SnapshotOutcome => ({
      _tag: "Failed",
      record: {
        ...base,
        availabilityZone: info?.availabilityZone ?? pvZone(pv) ?? "",
        volumeType: info?.volumeType ?? "",
        snapshotId: "",
        phase: "Failed",
        error: error.message
      }
    })
    const info = yield* store.getVolumeInfo(providerVolumeId, pvZone(pv)).pipe(Effect.either)
    if (info._tag === "Left") {
      return failed(
        info.left._tag === "VolumeNotFound" ? { message: `volume ${providerVolumeId} not found` } : info.left
      )
    }
    const { availabilityZone, volumeType, iops } = info.right
    const snapshotId = yield* store.createSnapshot(providerVolumeId, availabilityZone, {
      [backupTag]: backupName,
      [pvTag]: pvName
    }).pipe(
      Effect.either
    )
    if (snapshotId._tag === "Left") {
      return failed(
        snapshotId.left._tag === "VolumeNotFound"
          ? { message: `volume ${providerVolumeId} not found` }
          : snapshotId.left,
        info.right
      )
    }
    return {
      _tag: "Taken",
      record: {
        ...base,
        availabilityZone,
        volumeType,
        ...(iops === undefined ? {} : { iops }),
        snapshotId: snapshotId.right,
        phase: "Completed"
      }
    } satisfies SnapshotOutcome
  }
  return {
    _tag: "Unsupported",
    reason: stores.length === 0
      ? "no volume snapshot location is configured, so its volume was not snapshotted"
      : `no volume snapshot location (${
        stores.map((store) => store.location).join(", ")
      }) can snapshot its volume; its data is not in the backup`
  } satisfies SnapshotOutcome
})
