// `ark backup logs` and `ark backup download`: a backup's files, streamed from its storage location.
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Console, Effect, Option, Stream } from "effect"

import type { Backup } from "../../api/index.ts"
import { backupKeys } from "../../archive/layout.ts"
import { isEncryptedBackup } from "../../integrity/encryption.ts"
import { CliError } from "../errors.ts"
import type { LogsArgs } from "../logText.ts"
import { formatLogLine } from "../logText.ts"
import { arkCommand } from "../namespace.ts"
import { getBackup } from "./kube.ts"
import { gunzipLines, locationOf, readableStoreOf, storageFailure } from "./storage.ts"

export interface NamedArgs {
  readonly name: string
  readonly namespace: string
}

/** A missing file of a backup: usually one that has not finished yet. */
const notStored = (backup: Backup, what: string) =>
  new CliError({
    message: `backup "${
      backup.metadata.name ?? ""
    }" has no ${what} in storage location "${backup.spec.storageLocation}"`,
    hint: `it is uploaded when the backup finishes; its phase is ${backup.status?.phase ?? "New"} (${
      arkCommand(backup.metadata.namespace ?? "", `backup describe ${backup.metadata.name ?? ""}`)
    })`
  })

/** `--identity-file`: the age identities an encrypted backup is read with. */
export interface IdentityArgs {
  readonly identityFile: Option.Option<string>
}

export const backupLogs = Effect.fn("Cli.backupLogs")(function*(args: LogsArgs & IdentityArgs) {
  const { decoded: backup } = yield* getBackup(args.name, args.namespace)
  const store = yield* readableStoreOf(backup, args.namespace, args.identityFile)
  yield* gunzipLines(store, backupKeys(args.name).logs).pipe(
    Stream.runForEach((line) => Console.log(formatLogLine(args.output, line))),
    Effect.mapError((error) =>
      error._tag === "ObjectNotFound"
        ? notStored(backup, "logs")
        : storageFailure(`cannot read the logs of backup "${args.name}"`, backup)(error)
    )
  )
})

export interface DownloadArgs extends NamedArgs, IdentityArgs {
  readonly output: Option.Option<string>
  /** Overwrite an existing output file (Velero's --force). */
  readonly force: boolean
}

/**
 * Streams the tarball to a `.partial` file renamed on success, so a failed download leaves nothing
 * that looks whole, and an existing file (with --force) is only replaced by a complete one. An
 * encrypted backup is decrypted with --identity-file; without one it is saved as stored, an age
 * file (`.age`) that `age -d` decrypts anywhere.
 */
export const downloadBackup = Effect.fn("Cli.backupDownload")(function*(args: DownloadArgs) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const { decoded: backup } = yield* getBackup(args.name, args.namespace)
  const sealed = isEncryptedBackup(backup) && Option.isNone(args.identityFile)
  const target = path.resolve(
    Option.getOrElse(args.output, () => `${args.name}-data.tar.gz${sealed ? ".age" : ""}`)
  )
  const partial = `${target}.partial`
  const fileFailure = (error: { readonly message: string }) =>
    new CliError({ message: `cannot write ${target}: ${error.message}`, hint: "choose another path with -o" })

  if (!args.force && (yield* fs.exists(target).pipe(Effect.mapError((error) => fileFailure(error))))) {
    return yield* new CliError({
      message: `${target} already exists; it was left as it is`,
      hint: "pass --force to overwrite it, or choose another path with -o"
    })
  }
  const store = sealed
    ? (yield* locationOf(backup, args.namespace)).store
    : yield* readableStoreOf(backup, args.namespace, args.identityFile)
  yield* store.get(backupKeys(args.name).tarball).pipe(
    Stream.run(fs.sink(partial)),
    Effect.mapError((error) =>
      error._tag === "ObjectNotFound"
        ? notStored(backup, "tarball")
        : error._tag === "ObjectStoreError"
        ? storageFailure(`cannot read the tarball of backup "${args.name}"`, backup)(error)
        : fileFailure(error)
    ),
    Effect.zipRight(fs.rename(partial, target).pipe(Effect.mapError((error) => fileFailure(error)))),
    Effect.onError(() => fs.remove(partial).pipe(Effect.ignore))
  )
  yield* Console.log(`Backup ${args.name} has been successfully downloaded to ${target}`)
  if (sealed) {
    yield* Console.log(
      `It is encrypted with age: decrypt it with \`age -d -i IDENTITY_FILE ${target}\`, or download it with --identity-file`
    )
  }
})
