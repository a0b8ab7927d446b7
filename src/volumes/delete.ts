// Deleting a backup's volume snapshots, through the locations that took them: the deletion core
// (src/deletion) calls it for user deletes and TTL expiry alike.
import { Effect, Either } from "effect"

import type { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import { locationOpener } from "./locations.ts"
import type { VolumeSnapshotRecord } from "./records.ts"

export interface SnapshotDeletion {
  readonly deleted: ReadonlyArray<string>
  /** One line per snapshot that could not be deleted; the caller keeps the backup so it can retry. */
  readonly failures: ReadonlyArray<string>
}

/** Deletes every snapshot the records name (failed ones have no snapshot); never fails. */
export const deleteBackupSnapshots = Effect.fn("Volumes.deleteSnapshots")(function*(
  records: ReadonlyArray<VolumeSnapshotRecord>,
  provider: BlockStoreProvider.Shape,
  namespace: string
) {
  const open = locationOpener(provider, namespace)
  const deleted: Array<string> = []
  const failures: Array<string> = []
  for (const record of records) {
    if (record.snapshotId === "") continue
    const store = yield* open(record.location)
    if (Either.isLeft(store)) {
      failures.push(`snapshot ${record.snapshotId} of persistent volume ${record.pvName}: ${store.left}`)
      continue
    }
    const outcome = yield* store.right.deleteSnapshot(record.snapshotId).pipe(Effect.either)
    if (Either.isLeft(outcome)) {
      failures.push(`snapshot ${record.snapshotId} of persistent volume ${record.pvName}: ${outcome.left.message}`)
    } else deleted.push(record.snapshotId)
  }
  const result: SnapshotDeletion = { deleted, failures }
  return result
})
