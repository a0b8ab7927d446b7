// Deleting a backup and everything made from it (docs/design.md, "Schedules, expiry and
// deletion"). The order keeps every intermediate state safe and resumable: mark it Deleting (sync
// and restores leave it alone), uncommit (ark-backup.json), delete its snapshots (a failure keeps
// the records that name them), its other files, its restores, and its resource last, so an
// unfinished deletion is found again. Files under S3 Object Lock retention refuse it before any step.
import { Data, Effect, Either, Option, Schema } from "effect"

import type { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import type { GroupVersionResource } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import { Backup, formatDecodeError, group, kinds, version } from "../api/index.ts"
import { backupKeys } from "../archive/layout.ts"
import { getLocation } from "../locations/resolve.ts"
import { heldFiles, heldReason } from "../objectlock/retention.ts"
import { deleteBackupSnapshots } from "../volumes/delete.ts"
import { readSnapshotRecords } from "../volumes/records.ts"
import { deleteRestore, isRunning, restoresOf } from "./restores.ts"

const backupsGvr: GroupVersionResource = { group, version, resource: kinds.Backup.plural }

export type DeletionResult = Data.TaggedEnum<{
  /** Everything is gone; the resource went last. */
  Deleted: { readonly files: number; readonly snapshots: number; readonly restores: ReadonlyArray<string> }
  /** There is no Backup resource: nothing to delete, or an earlier attempt finished. */
  NotFound: {}
  /** Refused before anything was touched; trying again will not help until someone changes something. */
  Refused: { readonly errors: ReadonlyArray<string> }
  /** A step failed: what is done stays done, the rest waits for the next attempt. */
  Incomplete: { readonly errors: ReadonlyArray<string> }
}>

export const DeletionResult = Data.taggedEnum<DeletionResult>()

/** Nothing was touched: a precondition does not hold. */
class Refusal extends Data.TaggedError("Refusal")<{ readonly errors: ReadonlyArray<string> }> {}
/** A step failed part-way; one line per problem. */
class StepFailed extends Data.TaggedError("StepFailed")<{ readonly errors: ReadonlyArray<string> }> {}

const refuse = (error: string) => new Refusal({ errors: [error] })
const failed = (doing: string) => (error: { readonly message: string }) =>
  new StepFailed({ errors: [`${doing}: ${error.message}`] })

const decodeBackup = Schema.decodeUnknownEither(Backup)

/** The backup's snapshots, deleted through the locations that took them; the count deleted. */
const deleteSnapshots = Effect.fn("Deletion.deleteSnapshots")(function*(
  name: string,
  namespace: string,
  store: ObjectStore.Shape,
  blockStores: Option.Option<BlockStoreProvider.Shape>
) {
  const records = yield* readSnapshotRecords(name).pipe(
    Effect.provideService(ObjectStore, store),
    Effect.mapError(failed(`cannot read the volume snapshot records of backup "${name}"`))
  )
  const taken = records.filter((record) => record.snapshotId !== "")
  if (taken.length === 0) return 0
  if (Option.isNone(blockStores)) {
    return yield* new StepFailed({
      errors: [
        `backup "${name}" has ${taken.length} volume snapshot(s) and this server has no block store provider to delete them`
      ]
    })
  }
  const deletion = yield* deleteBackupSnapshots(taken, blockStores.value, namespace)
  if (deletion.failures.length > 0) return yield* new StepFailed({ errors: deletion.failures })
  return deletion.deleted.length
})

/** Every file left under backups/<name>/ (ark-backup.json is already gone); the count deleted. */
const deleteFiles = Effect.fn("Deletion.deleteFiles")(function*(name: string, store: ObjectStore.Shape) {
  const listing = yield* store.list(backupKeys(name).dir).pipe(
    Effect.mapError(failed(`cannot list the files of backup "${name}"`))
  )
  const errors: Array<string> = []
  for (const object of listing.objects) {
    const deleted = yield* store.delete(object.key).pipe(Effect.either)
    if (Either.isLeft(deleted)) errors.push(`cannot delete ${object.key}: ${deleted.left.message}`)
  }
  if (errors.length > 0) return yield* new StepFailed({ errors })
  return listing.objects.length
})

const attempt = Effect.fn("Deletion.attempt")(function*(
  name: string,
  namespace: string,
  blockStores: Option.Option<BlockStoreProvider.Shape>
) {
  const kube = yield* KubeClient
  const provider = yield* ObjectStoreProvider
  const found = yield* kube.get(backupsGvr, name, namespace).pipe(
    Effect.map((object) => Option.some(object)),
    Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none())),
    Effect.mapError(failed(`cannot read backup "${name}"`))
  )
  if (Option.isNone(found)) return DeletionResult.NotFound()
  const object = found.value
  const decoded = decodeBackup(object)
  if (Either.isLeft(decoded)) {
    return yield* refuse(`backup "${name}" is malformed: ${formatDecodeError(decoded.left).join("; ")}`)
  }
  const backup = decoded.right
  const phase = backup.status?.phase
  if (phase === "InProgress") {
    return yield* refuse(`backup "${name}" is in progress; it can be deleted once it finishes`)
  }

  // A location that is missing or ReadOnly is a misconfiguration: keep everything, say why.
  const locationName = backup.spec.storageLocation
  const location = yield* getLocation(namespace, locationName).pipe(
    Effect.catchTags({
      LocationNotFound: (error) =>
        Effect.fail(refuse(`${error.message}: backup "${name}" is kept, with its files and snapshots`)),
      LocationInvalid: (error) =>
        Effect.fail(refuse(`${error.message}: backup "${name}" is kept, with its files and snapshots`))
    }),
    Effect.mapError((error) =>
      error._tag === "Refusal" ? error : failed(`cannot read backup storage location "${locationName}"`)(error)
    )
  )
  if (location.spec.accessMode === "ReadOnly") {
    return yield* refuse(
      `backup storage location "${locationName}" is ReadOnly: backup "${name}" is kept, with its files and snapshots`
    )
  }
  const store = yield* provider.forLocation(location).pipe(
    Effect.mapError(failed(`backup storage location "${locationName}" cannot be opened`))
  )
  // Asked of storage before anything is touched: a retained file would stop the deletion half-way.
  const held = yield* heldFiles(store, backupKeys(name).dir).pipe(
    Effect.mapError(failed(`cannot read the retention of the files of backup "${name}"`))
  )
  if (Option.isSome(held)) return yield* refuse(heldReason(name, held.value))

  if (phase !== "Deleting") {
    // A full update: it conflicts (and the attempt starts over) if the backup changed since it was read.
    yield* kube.updateStatus(backupsGvr, {
      ...object,
      status: { ...(object["status"] as object | undefined), phase: "Deleting" }
    }).pipe(
      Effect.mapError((error) =>
        error._tag === "KubeConflict" ? error : failed(`cannot mark backup "${name}" Deleting`)(error)
      )
    )
  }
  const restores = yield* restoresOf(name, namespace).pipe(
    Effect.mapError(failed(`cannot list the restores of backup "${name}"`))
  )
  const running = restores.filter(isRunning).map((restore) => restore.metadata.name ?? "")
  if (running.length > 0) {
    return yield* new StepFailed({
      errors: running.map((restore) =>
        `restore "${restore}" of backup "${name}" is in progress; the backup is deleted once it finishes`
      )
    })
  }

  // Uncommit first: without ark-backup.json no sync or restore sees a half-deleted backup.
  const keys = backupKeys(name)
  const committed = yield* store.exists(keys.metadata).pipe(Effect.mapError(failed(`cannot read ${keys.metadata}`)))
  yield* store.delete(keys.metadata).pipe(Effect.mapError(failed(`cannot delete ${keys.metadata}`)))
  const snapshots = yield* deleteSnapshots(name, namespace, store, blockStores)
  const files = yield* deleteFiles(name, store)

  const restoreErrors: Array<string> = []
  for (const restore of restores) restoreErrors.push(...yield* deleteRestore(restore, store, namespace))
  if (restoreErrors.length > 0) return yield* new StepFailed({ errors: restoreErrors })

  yield* kube.delete(backupsGvr, name, namespace).pipe(
    Effect.catchTag("KubeNotFound", () => Effect.void),
    Effect.mapError(failed(`cannot delete backup "${name}"`))
  )
  return DeletionResult.Deleted({
    files: files + (committed ? 1 : 0),
    snapshots,
    restores: restores.map((restore) => restore.metadata.name ?? "")
  })
})

/**
 * Deletes the named Backup of the namespace: its files in its storage location, its volume
 * snapshots (through `blockStores`), its Restores with their files, and the resource. Never fails:
 * every problem is a line of the result.
 */
export const deleteBackup = (
  name: string,
  namespace: string,
  blockStores: Option.Option<BlockStoreProvider.Shape>
): Effect.Effect<DeletionResult, never, KubeClient | ObjectStoreProvider> =>
  attempt(name, namespace, blockStores).pipe(
    // Someone wrote the Backup between our read and the Deleting update: read it again.
    Effect.retry({ while: (error) => error._tag === "KubeConflict", times: 5 }),
    Effect.catchTags({
      Refusal: (refusal) => Effect.succeed(DeletionResult.Refused({ errors: refusal.errors })),
      StepFailed: (step) => Effect.succeed(DeletionResult.Incomplete({ errors: step.errors })),
      KubeConflict: (error) =>
        Effect.succeed(DeletionResult.Incomplete({ errors: [`backup "${name}" keeps changing: ${error.message}`] }))
    }),
    Effect.catchAllDefect((defect) =>
      Effect.succeed(DeletionResult.Incomplete({ errors: [`unexpected error: ${firstLine(defect)}`] }))
    ),
    Effect.withSpan("Deletion.deleteBackup", { attributes: { backup: name } })
  )

const firstLine = (defect: unknown): string => {
  const message = defect instanceof Error ? defect.message : String(defect)
  return message.split("\n")[0] ?? ""
}
