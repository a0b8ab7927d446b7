// A Backup the server finds InProgress when it starts was cut short by a crash (kill -9, OOM, node
// loss). If it had already committed (ark-backup.json is written before the final status patch),
// it is finished: adopt the stored status. Otherwise it can never finish: remove what it uploaded,
// delete the snapshots its records name, and mark it Failed. Storage that cannot be reached leaves
// the files in place; uncommitted files are invisible to sync and restore, so that is safe.
import { DateTime, Effect, Either, Option } from "effect"

import { BlockStoreProvider } from "../../../services/BlockStoreProvider.ts"
import type { GroupVersionResource, KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { ObjectStore } from "../../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import type { BackupStatus } from "../../api/index.ts"
import { toTimestamp } from "../../api/index.ts"
import { backupKeys } from "../../archive/layout.ts"
import { cleanupUncommitted } from "../../backup/run.ts"
import { getLocation } from "../../locations/resolve.ts"
import { readStoredBackup } from "../../sync/import.ts"
import { deleteBackupSnapshots } from "../../volumes/delete.ts"
import { readSnapshotRecords } from "../../volumes/records.ts"
import { decodeBackup } from "./backupValidation.ts"

export type Recovery = "adopted" | "failed"

/** The store the Backup wrote to, when its location can still be opened. */
const storeOf = (object: KubeObject, namespace: string) =>
  Effect.gen(function*() {
    const backup = decodeBackup(object).backup
    if (Option.isNone(backup)) return Option.none<ObjectStore.Shape>()
    const provider = yield* ObjectStoreProvider
    const location = yield* getLocation(namespace, backup.value.spec.storageLocation)
    return Option.some(yield* provider.forLocation(location))
  }).pipe(
    Effect.tapError((error) => Effect.logWarning(`cannot open the storage of an interrupted backup: ${error.message}`)),
    Effect.orElseSucceed(() => Option.none<ObjectStore.Shape>())
  )

/** Deletes the partial files and the snapshots the records name; best effort, logged. */
const removeLeftovers = (name: string, namespace: string, store: ObjectStore.Shape) =>
  Effect.gen(function*() {
    const records = yield* readSnapshotRecords(name).pipe(Effect.orElseSucceed(() => []))
    const blockStores = yield* Effect.serviceOption(BlockStoreProvider)
    if (records.length > 0 && Option.isSome(blockStores)) {
      const deletion = yield* deleteBackupSnapshots(records, blockStores.value, namespace)
      for (const failure of deletion.failures) yield* Effect.logWarning(`interrupted backup ${name}: ${failure}`)
    }
    yield* cleanupUncommitted(backupKeys(name))
  }).pipe(Effect.provideService(ObjectStore, store))

/** Brings an InProgress Backup found at start to a final phase; returns which. */
export const recoverInterruptedBackup = (
  backupsGvr: GroupVersionResource,
  object: KubeObject,
  namespace: string,
  reason: string
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const name = object.metadata.name ?? ""
    const patchStatus = (status: Partial<BackupStatus>) =>
      kube.patchStatus(backupsGvr, name, { type: "merge", body: { status } }, namespace)
    const store = yield* storeOf(object, namespace)
    if (Option.isSome(store)) {
      const committed = yield* readStoredBackup(store.value, name).pipe(Effect.either)
      if (Either.isRight(committed)) {
        yield* patchStatus(committed.right.status ?? {})
        yield* Effect.logWarning(
          "backup was InProgress when the server started, but had committed: took its stored status"
        )
        return "adopted" satisfies Recovery
      }
      // Only a backup that is certainly uncommitted loses its files; a storage error deletes nothing.
      if (committed.left._tag === "ObjectNotFound") yield* removeLeftovers(name, namespace, store.value)
    }
    const completionTimestamp = toTimestamp(yield* DateTime.now)
    yield* patchStatus({ phase: "Failed", failureReason: reason, completionTimestamp })
    yield* Effect.logWarning(
      "backup was InProgress when the server started: its partial files were removed and it is marked Failed"
    )
    return "failed" satisfies Recovery
  })
