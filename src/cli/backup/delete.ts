// `ark backup delete`: uncommit (ark-backup.json first, SPEC section 3), delete the backup's
// volume snapshots, then its other files, then its resource. When a snapshot cannot be deleted
// the records file and the resource stay, so the delete can be run again. Restores of the backup
// are left for the deletion controller.
import { Prompt } from "@effect/cli"
import { Terminal } from "@effect/platform"
import { Console, Effect, Option } from "effect"
import { backupKeys } from "../../archive/layout.ts"
import { deleteBackupSnapshots } from "../../volumes/delete.ts"
import { readSnapshotRecords } from "../../volumes/records.ts"
import { BlockStoreProvider } from "../../../services/BlockStoreProvider.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { ObjectStore } from "../../../services/ObjectStore.ts"
import { CliError } from "../errors.ts"
import { backupsGvr, getBackup, kubeFailure } from "./kube.ts"
import { locationOf, storageFailure } from "./storage.ts"

export interface DeleteArgs {
  readonly name: string
  readonly namespace: string
  readonly confirm: boolean
}

/** Asks y/N on a terminal; without one, deleting needs --confirm. */
const confirmed = (question: string) =>
  Effect.gen(function*() {
    const terminal = yield* Terminal.Terminal
    if (!(yield* terminal.isTTY)) {
      return yield* new CliError({
        message: "refusing to delete without confirmation: there is no terminal to ask on",
        hint: "pass --confirm to delete non-interactively"
      })
    }
    return yield* Prompt.confirm({ message: question, initial: false }).pipe(
      Effect.catchTag("QuitException", () => Effect.succeed(false))
    )
  })

/** Deletes the snapshots the backup's records name; any failure stops the delete before files and resource go. */
const deleteSnapshots = (backup: string, namespace: string, store: ObjectStore.Shape, locationName: string) =>
  Effect.gen(function*() {
    const records = yield* readSnapshotRecords(backup).pipe(
      Effect.provideService(ObjectStore, store),
      Effect.mapError((error) => storageFailure(`cannot read the volume snapshot records of backup "${backup}"`, locationName)(error))
    )
    const taken = records.filter((record) => record.snapshotId !== "")
    if (taken.length === 0) return 0
    const provider = yield* Effect.serviceOption(BlockStoreProvider)
    if (Option.isNone(provider)) {
      return yield* new CliError({
        message: `backup "${backup}" has ${taken.length} volume snapshot(s), and this ark cannot reach block stores to delete them`,
        hint: "the backup is uncommitted but its resource and records are kept; run the delete again from a full ark build"
      })
    }
    const deletion = yield* deleteBackupSnapshots(taken, provider.value, namespace)
    if (deletion.failures.length > 0) {
      return yield* new CliError({
        message: `cannot delete ${deletion.failures.length} volume snapshot(s) of backup "${backup}": ${deletion.failures.join("; ")}`,
        hint: `the backup's resource and snapshot records are kept; fix the cause and run ark backup delete ${backup} again`
      })
    }
    return deletion.deleted.length
  })

export const deleteBackup = Effect.fn("Cli.backupDelete")(function*(args: DeleteArgs) {
  const kube = yield* KubeClient
  const { decoded: backup } = yield* getBackup(args.name, args.namespace)
  const locationName = backup.spec.storageLocation
  if (backup.status?.phase === "InProgress") {
    return yield* new CliError({
      message: `backup "${args.name}" is in progress; deleting it now would race the server writing it`,
      hint: `wait until it finishes: ark backup get ${args.name}`
    })
  }
  if (!args.confirm) {
    const yes = yield* confirmed(`Delete backup "${args.name}" and its files in storage location "${locationName}"?`)
    if (!yes) return yield* Console.log("Cancelled: nothing was deleted.")
  }
  const { location, store } = yield* locationOf(backup, args.namespace)
  if (location.spec.accessMode === "ReadOnly") {
    return yield* new CliError({
      message: `backup storage location "${locationName}" is ReadOnly: backup "${args.name}" cannot be deleted from it`,
      hint: "switch the location's accessMode to ReadWrite to delete backups"
    })
  }
  const keys = backupKeys(args.name)
  const failed = storageFailure(`cannot delete the files of backup "${args.name}"`, locationName)
  // Uncommit first: without ark-backup.json no sync or restore sees a half-deleted backup.
  const committed = yield* store.exists(keys.metadata).pipe(Effect.mapError((error) => failed(error)))
  yield* store.delete(keys.metadata).pipe(Effect.mapError((error) => failed(error)))
  const snapshots = yield* deleteSnapshots(args.name, args.namespace, store, locationName)
  const listing = yield* store.list(keys.dir).pipe(Effect.mapError((error) => failed(error)))
  for (const object of listing.objects) yield* store.delete(object.key).pipe(Effect.mapError((error) => failed(error)))
  yield* kube.delete(backupsGvr, args.name, args.namespace).pipe(
    Effect.catchTag("KubeNotFound", () => Effect.void),
    Effect.mapError((error) => kubeFailure(`cannot delete backup "${args.name}"`, args.namespace)(error))
  )
  const files = listing.objects.length + (committed ? 1 : 0)
  yield* Console.log(
    `Backup "${args.name}" deleted: the resource and ${files} file${files === 1 ? "" : "s"} in storage location "${locationName}"` +
      (snapshots === 0 ? ".\n" : `, and ${snapshots} volume snapshot${snapshots === 1 ? "" : "s"}.\n`) +
      "note: its restores are not deleted yet; full deletion comes with issue 7 " +
      "(schedules, TTL expiry, deletion and sync)."
  )
})
