// `ark backup create`: submit a Backup resource, and with --wait follow it to its end.
import { Console, Effect, Option, Schema } from "effect"

import type { KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { Backup } from "../../api/index.ts"
import { CliError } from "../errors.ts"
import { arkCommand } from "../namespace.ts"
import { followUntilFinished } from "../wait.ts"
import { checkResourcesExist } from "./discovery.ts"
import {
  backupsGvr,
  backupStorageLocationsGvr,
  getSchedule,
  kubeFailure,
  requireExisting,
  volumeSnapshotLocationsGvr
} from "./kube.ts"
import { markedDefaultLocation } from "./location.ts"
import type { BackupFlags, MetadataFlags } from "./spec.ts"
import {
  backupFromSchedule,
  backupResource,
  backupSpecFromFlags,
  checkResourceName,
  givenSpecFlags,
  metadataFromFlags,
  withMetadata
} from "./spec.ts"
import { isFinished, outcomeLine, progressLine } from "./view.ts"

export interface CreateArgs extends BackupFlags, MetadataFlags {
  readonly name: string
  readonly namespace: string
  readonly fromSchedule: Option.Option<string>
  readonly wait: boolean
}

/** The Backup to submit: from the flags, or from a schedule's template (then no spec flag may be given). */
const desiredBackup = (args: CreateArgs) =>
  Option.match(args.fromSchedule, {
    onNone: () => Effect.map(backupSpecFromFlags(args), (spec) => backupResource(args.name, args.namespace, spec)),
    onSome: (scheduleName) => {
      const given = givenSpecFlags(args)
      return given.length > 0
        ? Effect.fail(
          new CliError({
            message:
              `--from-schedule takes the whole backup spec from schedule "${scheduleName}"; it cannot be combined with ${
                given.join(", ")
              }`,
            hint: "drop those flags, or create the backup without --from-schedule"
          })
        )
        : getSchedule(scheduleName, args.namespace).pipe(
          Effect.map(({ decoded }) => backupFromSchedule(args.name, args.namespace, decoded))
        )
    }
  })

export const createBackup = Effect.fn("Cli.backupCreate")(function*(given: CreateArgs) {
  const kube = yield* KubeClient
  yield* checkResourceName("backup", given.name)
  const metadata = yield* metadataFromFlags(given)
  // A backup that names no location goes to the one marked default, if any (a schedule's keeps its
  // own). Its flags are checked first: a bad one is refused before the cluster is asked anything.
  const args = Option.isNone(given.storageLocation) && Option.isNone(given.fromSchedule)
    ? yield* desiredBackup(given).pipe(
      Effect.zipRight(markedDefaultLocation(given.namespace)),
      Effect.map((storageLocation) => ({ ...given, storageLocation }))
    )
    : given
  const backup = withMetadata(yield* desiredBackup(args), metadata)
  // Velero's CLI checks the locations the user named; the defaults are the server's to validate.
  if (Option.isSome(args.storageLocation)) {
    yield* requireExisting(backupStorageLocationsGvr, "--storage-location")(backup.spec.storageLocation, args.namespace)
  }
  for (const location of args.volumeSnapshotLocations) {
    yield* requireExisting(volumeSnapshotLocationsGvr, "--volume-snapshot-locations")(location, args.namespace)
  }
  yield* checkResourcesExist({ ...args, orderedResources: backup.spec.orderedResources }, args.namespace)
  const encoded = yield* Schema.encode(Backup)(backup).pipe(
    Effect.mapError((error) => new CliError({ message: `cannot encode backup "${args.name}": ${error.message}` }))
  )
  const created = yield* kube.create(backupsGvr, encoded).pipe(
    Effect.mapError((error) =>
      error._tag === "KubeAlreadyExists"
        ? new CliError({
          message: `backup "${args.name}" already exists in namespace ${args.namespace}`,
          hint: `choose another name, or \`${arkCommand(args.namespace, `backup delete ${args.name}`)}\` first`
        })
        : kubeFailure(`cannot create backup "${args.name}"`, args.namespace)(error)
    )
  )
  if (!args.wait) {
    yield* Console.log(
      `Backup request "${args.name}" submitted successfully.\n` +
        `Run \`${arkCommand(args.namespace, `backup describe ${args.name}`)}\` or \`${
          arkCommand(args.namespace, `backup logs ${args.name}`)
        }\` for more details.`
    )
    return
  }
  yield* Console.log(
    `Backup request "${args.name}" submitted successfully. Waiting for it to finish (Ctrl-C stops waiting, not the backup).`
  )
  const finished = yield* waitForBackup(created, args.namespace)
  yield* Console.log(outcomeLine(finished))
  if (finished.status?.phase !== "Completed") {
    return yield* new CliError({
      message: `backup "${args.name}" ended ${finished.status?.phase ?? "New"}, not Completed`,
      hint: `\`${arkCommand(args.namespace, `backup describe ${args.name}`)}\` and \`${
        arkCommand(args.namespace, `backup logs ${args.name}`)
      }\` show why`
    })
  }
})

const decodeBackup = (object: KubeObject) =>
  Schema.decodeUnknown(Backup)(object).pipe(
    Effect.mapError((error) =>
      new CliError({ message: `backup "${object.metadata.name ?? ""}" is malformed: ${error.message}` })
    )
  )

/** `--wait`: follows the backup until it finishes, showing progress. */
export const waitForBackup = (initial: KubeObject, namespace: string) =>
  followUntilFinished(
    {
      kind: "backup",
      gvr: backupsGvr,
      decode: decodeBackup,
      isFinished: (backup: Backup) => isFinished(backup.status?.phase),
      progressLine: (backup: Backup) => progressLine(backup)
    },
    initial,
    namespace
  )
