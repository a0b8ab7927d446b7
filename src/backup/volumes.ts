// The backup's volume step, after the tarball is written and before anything is committed: each
// hooked pod's pre hooks, that pod's volume snapshots, its post hooks (so the snapshot is inside
// the pre/post window, unlike Velero's issue 4268); then every other included PV's snapshot.
// Runs once per backup, never per tarball attempt, so a 410 restart takes no extra snapshots.
import { Data, Effect, Either } from "effect"

import type { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import type { HookRunner } from "../../services/HookRunner.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { runHook } from "../hooks/run.ts"
import type { HookSpecs, PodHook } from "../hooks/select.ts"
import { hasHooks, podHooks } from "../hooks/select.ts"
import { isRecord } from "../kube/json.ts"
import type { VolumeInventory } from "../volumes/inventory.ts"
import type { SnapshotStore } from "../volumes/locations.ts"
import type { VolumeSnapshotRecord } from "../volumes/records.ts"
import { snapshotPersistentVolume } from "../volumes/snapshot.ts"
import type { BackupLog, BackupResults, Where } from "./log.ts"

/** What the volume step runs on; the server provides both. */
export interface VolumeServices {
  readonly blockStores: BlockStoreProvider.Shape
  readonly hooks: HookRunner.Shape
}

/** A hook with onError Fail failed: the backup fails with this reason. */
export class HookFailed extends Data.TaggedError("HookFailed")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

const PERSISTENT_VOLUMES: GroupVersionResource = { group: "", version: "v1", resource: "persistentvolumes" }
const PERSISTENT_VOLUME_CLAIMS: GroupVersionResource = { group: "", version: "v1", resource: "persistentvolumeclaims" }

export interface VolumeStepContext {
  readonly backupName: string
  readonly snapshotVolumes: boolean
  readonly stores: ReadonlyArray<SnapshotStore>
  readonly hookSpecs: HookSpecs | undefined
  readonly runner: HookRunner.Shape
  readonly inventory: VolumeInventory
  readonly log: BackupLog
  readonly results: BackupResults
  /** Every record, in the order taken; filled as the step runs so a failed backup can delete them. */
  readonly records: Array<VolumeSnapshotRecord>
}

const pvWhere = (name: string): Where => ({ resource: "persistentvolumes", name })

export const runVolumeStep = Effect.fn("Backup.volumes")(function*(context: VolumeStepContext) {
  const kube = yield* KubeClient
  const { inventory, log, results } = context
  const handled = new Set<string>()

  const warn = (message: string, where: Where) => {
    results.add("warnings", message, where)
    return log.write("warning", message, where)
  }
  const error = (message: string, where: Where) => {
    results.add("errors", message, where)
    return log.write("error", message, where)
  }

  /** The PV a claim is bound to: from the backup's own items, else read now. */
  const claimVolume = (namespace: string, claim: string) =>
    Effect.gen(function*() {
      const known = inventory.claims.get(`${namespace}/${claim}`)
      if (known !== undefined) return known
      const object = yield* kube.get(PERSISTENT_VOLUME_CLAIMS, claim, namespace).pipe(Effect.either)
      if (Either.isLeft(object)) return undefined
      const spec = object.right["spec"]
      const volumeName = isRecord(spec) ? spec["volumeName"] : undefined
      return typeof volumeName === "string" && volumeName !== "" ? volumeName : undefined
    })

  const persistentVolume = (name: string) =>
    Effect.gen(function*() {
      const known = inventory.persistentVolumes.get(name)
      const found: Either.Either<KubeObject, string> = known !== undefined
        ? Either.right(known)
        : Either.mapLeft(yield* kube.get(PERSISTENT_VOLUMES, name).pipe(Effect.either), (failure) => failure.message)
      return found
    })

  const snapshot = (pvName: string) =>
    Effect.gen(function*() {
      if (!context.snapshotVolumes || handled.has(pvName)) return
      handled.add(pvName)
      const where = pvWhere(pvName)
      const pv = yield* persistentVolume(pvName)
      if (Either.isLeft(pv)) return yield* warn(`cannot be read, so its volume was not snapshotted: ${pv.left}`, where)
      const outcome = yield* snapshotPersistentVolume(pv.right, context.stores, context.backupName)
      switch (outcome._tag) {
        case "Taken":
          context.records.push(outcome.record)
          return yield* log.write(
            "info",
            `snapshot ${outcome.record.snapshotId} of volume ${outcome.record.providerVolumeId} taken through location ${outcome.record.location}`,
            where
          )
        case "Failed":
          context.records.push(outcome.record)
          return yield* error(
            `snapshot of volume ${outcome.record.providerVolumeId} failed: ${outcome.record.error ?? ""}`,
            where
          )
        case "Unsupported":
          return yield* warn(outcome.reason, where)
        case "Error":
          return yield* error(outcome.message, where)
      }
    })

  const snapshotClaims = (namespace: string, claims: ReadonlyArray<string>) =>
    Effect.forEach(
      claims,
      (claim) =>
        claimVolume(namespace, claim).pipe(
          Effect.flatMap((volume) => (volume === undefined ? Effect.void : snapshot(volume)))
        ),
      { discard: true }
    )

  /** Runs hooks in order; the first Fail stops the rest of the phase. Returns that failure. */
  const runPhase = (namespace: string, pod: string, hooks: ReadonlyArray<PodHook>) =>
    Effect.gen(function*() {
      for (const hook of hooks) {
        const outcome = yield* runHook(context.runner, log, namespace, pod, hook)
        if (outcome._tag === "Succeeded") continue
        const where: Where = { resource: "pods", namespace, name: pod }
        if (hook.onError === "Fail") {
          yield* log.write("error", outcome.message, where)
          return outcome.message
        }
        yield* warn(`${outcome.message} (onError Continue)`, where)
      }
      return undefined
    })

  const hookedPods = new Set<string>()
  for (const entry of inventory.pods) {
    const hooks = podHooks(entry.pod, context.hookSpecs)
    const where: Where = { resource: "pods", namespace: entry.namespace, name: entry.name }
    for (const warning of hooks.warnings) yield* warn(warning, where)
    if (!hasHooks(hooks)) continue
    hookedPods.add(`${entry.namespace}/${entry.name}`)
    const preFailure = yield* runPhase(entry.namespace, entry.name, hooks.pre)
    if (preFailure === undefined) yield* snapshotClaims(entry.namespace, entry.claims)
    // Post hooks run whatever happened before them: they unfreeze the application.
    const postFailure = yield* runPhase(entry.namespace, entry.name, hooks.post)
    const failure = preFailure ?? postFailure
    if (failure !== undefined) return yield* new HookFailed({ reason: failure })
  }

  for (const entry of inventory.pods) {
    if (!hookedPods.has(`${entry.namespace}/${entry.name}`)) yield* snapshotClaims(entry.namespace, entry.claims)
  }
  for (const volume of inventory.claims.values()) yield* snapshot(volume)
  for (const name of inventory.persistentVolumes.keys()) yield* snapshot(name)
})

/** Deletes the snapshots of a backup that did not commit; best effort, each failure logged. */
export const deleteTakenSnapshots = Effect.fn("Backup.deleteTakenSnapshots")(function*(
  records: ReadonlyArray<VolumeSnapshotRecord>,
  stores: ReadonlyArray<SnapshotStore>
) {
  for (const record of records) {
    if (record.phase !== "Completed") continue
    const store = stores.find((candidate) => candidate.location === record.location)
    if (store === undefined) continue
    yield* store.store.deleteSnapshot(record.snapshotId).pipe(
      Effect.catchAll((failure) =>
        Effect.logWarning(
          `snapshot ${record.snapshotId} of an uncommitted backup could not be deleted: ${failure.message}`
        )
      )
    )
  }
})
