// `ark backup delete`: submits a DeleteBackupRequest, the path TTL expiry takes too. The Ark
// server deletes the backup's files, its volume snapshots, its restores and then its resource
// (src/deletion). The checks here only turn obvious refusals into an immediate error.
import { Console, DateTime, Effect, Option } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import type { Backup } from "../../api/index.ts"
import { backupNameLabel, nameSelector } from "../../api/index.ts"
import { deleteBackupRequestsGvr, newDeleteBackupRequest } from "../../deletion/requests.ts"
import { restoresOf } from "../../deletion/restores.ts"
import { confirmed } from "../confirm.ts"
import { CliError } from "../errors.ts"
import { arkCommand } from "../namespace.ts"
import type { DeleteSelectionArgs } from "../selection.ts"
import { deleteSelected } from "../selection.ts"
import { getBackup, getBackupStorageLocation, kubeFailure, listBackups } from "./kube.ts"

export interface DeleteArgs {
  readonly name: string
  readonly namespace: string
  readonly confirm: boolean
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`

/** What the server will delete, in its order. */
const deletionPlan = (backup: Backup, restores: ReadonlyArray<string>): ReadonlyArray<string> => {
  const snapshots = backup.status?.volumeSnapshotsCompleted ?? 0
  return [
    `its files in storage location "${backup.spec.storageLocation}"`,
    ...(snapshots === 0 ? [] : [`its ${plural(snapshots, "volume snapshot")}`]),
    ...(restores.length === 0
      ? []
      : [`its ${plural(restores.length, "restore")} (${restores.join(", ")}) with their files`]),
    "then the Backup resource"
  ]
}

export const deleteBackup = Effect.fn("Cli.backupDelete")(function*(args: DeleteArgs) {
  const kube = yield* KubeClient
  const { decoded: backup } = yield* getBackup(args.name, args.namespace)
  const locationName = backup.spec.storageLocation
  if (backup.status?.phase === "InProgress") {
    return yield* new CliError({
      message: `backup "${args.name}" is in progress; deleting it now would race the server writing it`,
      hint: `wait until it finishes: ${arkCommand(args.namespace, `backup get ${args.name}`)}`
    })
  }
  // The server refuses these too; saying so now spares a request that can only fail.
  const { decoded: location } = yield* getBackupStorageLocation(locationName, args.namespace).pipe(
    Effect.mapError((error) =>
      new CliError({
        message: `backup "${args.name}" is stored in location "${locationName}": ${error.message}; nothing is deleted`,
        hint: error.hint ?? `${arkCommand(args.namespace, "backup-location get")} lists the locations`
      })
    )
  )
  if (location.spec.accessMode === "ReadOnly") {
    return yield* new CliError({
      message: `backup storage location "${locationName}" is ReadOnly: backup "${args.name}" cannot be deleted from it`,
      hint: "switch the location's accessMode to ReadWrite to delete backups"
    })
  }
  const retention = backup.status?.retention
  const now = yield* DateTime.now
  const retained = retention !== undefined &&
    Option.exists(DateTime.make(retention.retainUntil), (until) => DateTime.greaterThan(until, now))
  if (retained) {
    return yield* new CliError({
      message:
        `backup "${args.name}" is retained until ${retention.retainUntil} (S3 Object Lock, mode ${retention.mode}): ` +
        "it cannot be deleted before then; nothing is deleted",
      hint: "a shorter TTL or expiration cannot shorten the retention; once it passes, expiry deletes the backup"
    })
  }
  const restores = yield* restoresOf(args.name, args.namespace).pipe(
    Effect.map((objects) => objects.map((restore) => restore.metadata.name ?? "")),
    Effect.mapError((error) => kubeFailure(`cannot list the restores of backup "${args.name}"`, args.namespace)(error))
  )
  const plan = deletionPlan(backup, restores)
  if (!args.confirm) {
    const yes = yield* confirmed(`Delete backup "${args.name}": ${plan.join(", ")}?`)
    if (!yes) return yield* Console.log("Cancelled: nothing was deleted.")
  }
  const request = yield* kube.create(deleteBackupRequestsGvr, newDeleteBackupRequest(args.name, args.namespace)).pipe(
    Effect.mapError((error) =>
      kubeFailure(`cannot request the deletion of backup "${args.name}"`, args.namespace)(error)
    )
  )
  yield* Console.log(
    [
      `Request to delete backup "${args.name}" submitted successfully (DeleteBackupRequest "${
        request.metadata.name ?? ""
      }").`,
      `The Ark server deletes ${plan.join(", ")}.`,
      `It shows as Deleting until it is gone: ${
        arkCommand(args.namespace, `backup get ${args.name}`)
      }; problems are in the request's status: ` +
      `kubectl -n ${args.namespace} get deletebackuprequests -l ${nameSelector(backupNameLabel, args.name)} -o yaml`
    ].join("\n")
  )
})

/** `ark backup delete NAME... | -l SELECTOR | --all`: each selected backup, one after another. */
export const deleteBackups = (args: DeleteSelectionArgs) =>
  deleteSelected(
    "backup",
    args,
    { get: (name) => getBackup(name, args.namespace), list: listBackups(args.namespace) },
    deleteBackup
  )
