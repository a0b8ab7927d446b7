// `ark backup-location set|delete` and `ark snapshot-location delete`. Deleting a backup storage
// location deletes the Backup resources stored in it, as Velero's does (its design 2082): they can
// no longer be read, restored or deleted through Ark. Their files stay in object storage, and
// creating the location again brings them back through storage sync.
import { Console, Effect, Either, Option } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import type { AccessMode } from "../../api/index.ts"
import { volumeSnapshotLocationsGvr } from "../../volumes/locations.ts"
import { confirmed } from "../confirm.ts"
import { CliError } from "../errors.ts"
import { backupStorageConfigKeys, checkBackupStorageConfig, parseConfig } from "../locationConfig.ts"
import { arkCommand } from "../namespace.ts"
import { backupsGvr, backupStorageLocationsGvr, getBackupStorageLocation, kubeFailure, listBackups } from "./kube.ts"
import { unmarkOtherDefaults } from "./location.ts"

export interface SetLocationArgs {
  readonly name: string
  readonly namespace: string
  readonly default: boolean
  readonly config: ReadonlyArray<string>
  readonly credential: Option.Option<string>
  readonly accessMode: Option.Option<AccessMode>
}

/** `--credential SECRET=KEY`, Velero's form. */
const parseCredential = (text: string): Either.Either<{ name: string; key: string }, CliError> => {
  const [name = "", key = ""] = text.split("=")
  return name === "" || key === "" || text.split("=").length !== 2
    ? Either.left(
      new CliError({
        message: `--credential: "${text}" is not SECRET=KEY`,
        hint: "for example: --credential cloud-credentials=cloud (a Secret in the server namespace)"
      })
    )
    : Either.right({ name, key })
}

export const setBackupLocation = Effect.fn("Cli.backupLocationSet")(function*(args: SetLocationArgs) {
  const kube = yield* KubeClient
  const credential = yield* Option.match(args.credential, {
    onNone: () => Either.right(Option.none<{ name: string; key: string }>()),
    onSome: (text) => Either.map(parseCredential(text), Option.some)
  })
  const { decoded: location } = yield* getBackupStorageLocation(args.name, args.namespace)
  const given = yield* parseConfig(args.config)
  // New settings join the old ones, and the whole is checked as create checks it.
  const config = Object.keys(given).length === 0
    ? Option.none()
    : Option.some(
      yield* checkBackupStorageConfig(location.spec.provider, { ...location.spec.config, ...given }).pipe(
        Either.mapLeft((error) =>
          error.hint === undefined
            ? new CliError({
              message: error.message,
              hint: `provider ${location.spec.provider} understands ${
                backupStorageConfigKeys[location.spec.provider].join(", ")
              }`
            })
            : error
        )
      )
    )
  if (!args.default && Option.isNone(config) && Option.isNone(credential) && Option.isNone(args.accessMode)) {
    return yield* new CliError({
      message: "nothing to set",
      hint: "give --default, --config k=v, --credential SECRET=KEY or --access-mode"
    })
  }
  const spec = {
    ...(args.default ? { default: true } : {}),
    ...Option.match(config, { onNone: () => ({}), onSome: (config) => ({ config }) }),
    ...Option.match(credential, { onNone: () => ({}), onSome: (credential) => ({ credential }) }),
    ...Option.match(args.accessMode, { onNone: () => ({}), onSome: (accessMode) => ({ accessMode }) })
  }
  yield* kube.patch(backupStorageLocationsGvr, args.name, { type: "merge", body: { spec } }, args.namespace).pipe(
    Effect.mapError((error) =>
      kubeFailure(`cannot update backup storage location "${args.name}"`, args.namespace)(error)
    )
  )
  if (args.default) yield* unmarkOtherDefaults(args.name, args.namespace)
  yield* Console.log(
    `Backup storage location "${args.name}" updated${args.default ? "; it is the default" : ""}.\n` +
      `The Ark server validates it again: ${arkCommand(args.namespace, `backup-location get ${args.name}`)}`
  )
})

export interface DeleteLocationArgs {
  readonly name: string
  readonly namespace: string
  readonly confirm: boolean
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`

export const deleteBackupLocation = Effect.fn("Cli.backupLocationDelete")(function*(args: DeleteLocationArgs) {
  const kube = yield* KubeClient
  yield* getBackupStorageLocation(args.name, args.namespace)
  const stored = (yield* listBackups(args.namespace)).filter(({ decoded }) =>
    decoded.spec.storageLocation === args.name
  ).map(({ decoded }) => decoded.metadata.name ?? "")
  if (!args.confirm) {
    const yes = yield* confirmed(
      `Delete backup storage location "${args.name}" and the ${
        plural(stored.length, "Backup resource")
      } stored in it ` +
        "(their files stay in object storage)?"
    )
    if (!yes) return yield* Console.log("Cancelled: nothing was deleted.")
  }
  yield* kube.delete(backupStorageLocationsGvr, args.name, args.namespace).pipe(
    Effect.mapError((error) =>
      kubeFailure(`cannot delete backup storage location "${args.name}"`, args.namespace)(error)
    )
  )
  yield* Console.log(`Backup storage location "${args.name}" deleted.`)
  for (const backup of stored) {
    yield* kube.delete(backupsGvr, backup, args.namespace).pipe(
      Effect.catchTag("KubeNotFound", () => Effect.void),
      Effect.mapError((error) => kubeFailure(`cannot delete backup "${backup}"`, args.namespace)(error))
    )
    yield* Console.log(`Backup "${backup}" deleted (its files stay in object storage).`)
  }
})

export const deleteSnapshotLocation = Effect.fn("Cli.snapshotLocationDelete")(function*(args: DeleteLocationArgs) {
  const kube = yield* KubeClient
  const missing = new CliError({
    message: `volume snapshot location "${args.name}" not found in namespace ${args.namespace}`,
    hint: `${arkCommand(args.namespace, "snapshot-location get")} lists them`
  })
  yield* kube.get(volumeSnapshotLocationsGvr, args.name, args.namespace).pipe(
    Effect.mapError((error) =>
      error._tag === "KubeNotFound" && error.name === args.name
        ? missing
        : kubeFailure(`cannot read volume snapshot location "${args.name}"`, args.namespace)(error)
    )
  )
  if (!args.confirm) {
    const yes = yield* confirmed(
      `Delete volume snapshot location "${args.name}"? Snapshots taken with it stay, but cannot be restored or deleted.`
    )
    if (!yes) return yield* Console.log("Cancelled: nothing was deleted.")
  }
  yield* kube.delete(volumeSnapshotLocationsGvr, args.name, args.namespace).pipe(
    Effect.mapError((error) =>
      kubeFailure(`cannot delete volume snapshot location "${args.name}"`, args.namespace)(error)
    )
  )
  yield* Console.log(`Volume snapshot location "${args.name}" deleted.`)
})
