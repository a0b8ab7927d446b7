// `ark restore delete`: the restore's files in its backup's storage location, then its resource.
// The objects it restored stay in the cluster.
import { Console, Effect, Either } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import { restoreKeys } from "../../archive/layout.ts"
import { kubeFailure } from "../backup/kube.ts"
import { storageFailure } from "../backup/storage.ts"
import { confirmed } from "../confirm.ts"
import { CliError } from "../errors.ts"
import { arkCommand } from "../namespace.ts"
import type { DeleteSelectionArgs } from "../selection.ts"
import { deleteSelected } from "../selection.ts"
import { backupWithStore, getRestore, listRestores, restoresGvr } from "./kube.ts"

export interface DeleteArgs {
  readonly name: string
  readonly namespace: string
  readonly confirm: boolean
}

export const deleteRestore = Effect.fn("Cli.restoreDelete")(function*(args: DeleteArgs) {
  const kube = yield* KubeClient
  const { decoded: restore } = yield* getRestore(args.name, args.namespace)
  if (restore.status?.phase === "InProgress") {
    return yield* new CliError({
      message: `restore "${args.name}" is in progress; deleting it now would race the server writing its files`,
      hint: `wait until it finishes: ${arkCommand(args.namespace, `restore get ${args.name}`)}`
    })
  }
  if (!args.confirm) {
    const yes = yield* confirmed(`Delete restore "${args.name}" and its files? (The restored objects stay.)`)
    if (!yes) return yield* Console.log("Cancelled: nothing was deleted.")
  }
  // Without its backup there is no location to look in: the resource alone is deleted, and said so.
  const source = yield* backupWithStore(restore.spec.backupName ?? "", args.namespace).pipe(Effect.either)
  let files = 0
  if (Either.isRight(source)) {
    const { backup, store } = source.right
    const failed = storageFailure(`cannot delete the files of restore "${args.name}"`, backup)
    const listing = yield* store.list(restoreKeys(args.name).dir).pipe(Effect.mapError((error) => failed(error)))
    for (const object of listing.objects) {
      yield* store.delete(object.key).pipe(Effect.mapError((error) => failed(error)))
    }
    files = listing.objects.length
  }
  yield* kube.delete(restoresGvr, args.name, args.namespace).pipe(
    Effect.catchTag("KubeNotFound", () => Effect.void),
    Effect.mapError((error) => kubeFailure(`cannot delete restore "${args.name}"`, args.namespace)(error))
  )
  yield* Console.log(
    Either.match(source, {
      onRight: ({ backup }) =>
        `Restore "${args.name}" deleted: the resource and ${files} file${
          files === 1 ? "" : "s"
        } in storage location "${backup.spec.storageLocation}".`,
      onLeft: (error) =>
        `Restore "${args.name}" deleted (the resource only; its files were not found: ${error.message}).`
    })
  )
})

/** `ark restore delete NAME... | -l SELECTOR | --all`: each selected restore, one after another. */
export const deleteRestores = (args: DeleteSelectionArgs) =>
  deleteSelected("restore", args, {
    get: (name) => getRestore(name, args.namespace),
    list: listRestores(args.namespace)
  }, deleteRestore)
