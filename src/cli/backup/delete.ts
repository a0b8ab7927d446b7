// `ark backup delete`: the backup's files in object storage (ark-backup.json first, SPEC section 3),
// then its resource. Snapshots and restores of the backup are left for the deletion controller.
import { Prompt } from "@effect/cli"
import { Terminal } from "@effect/platform"
import { Console, Effect } from "effect"
import { backupKeys } from "../../archive/layout.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
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
  const listing = yield* store.list(keys.dir).pipe(Effect.mapError((error) => failed(error)))
  for (const object of listing.objects) yield* store.delete(object.key).pipe(Effect.mapError((error) => failed(error)))
  yield* kube.delete(backupsGvr, args.name, args.namespace).pipe(
    Effect.catchTag("KubeNotFound", () => Effect.void),
    Effect.mapError((error) => kubeFailure(`cannot delete backup "${args.name}"`, args.namespace)(error))
  )
  const files = listing.objects.length + (committed ? 1 : 0)
  yield* Console.log(
    `Backup "${args.name}" deleted: the resource and ${files} file${files === 1 ? "" : "s"} in storage location "${locationName}".\n` +
      "note: its volume snapshots and its restores are not deleted yet; full deletion comes with issue 7 " +
      "(schedules, TTL expiry, deletion and sync)."
  )
})
