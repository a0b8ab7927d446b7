// `ark schedule create`: submit a Schedule; the server runs its first backup at once.
import { Console, Effect, Option, Schema } from "effect"

import { KubeClient } from "../../../services/KubeClient.ts"
import { Schedule } from "../../api/index.ts"
import { checkResourcesExist } from "../backup/discovery.ts"
import { backupStorageLocationsGvr, kubeFailure, requireExisting, volumeSnapshotLocationsGvr } from "../backup/kube.ts"
import { markedDefaultLocation } from "../backup/location.ts"
import { CliError } from "../errors.ts"
import { arkCommand } from "../namespace.ts"
import { schedulesGvr } from "./kube.ts"
import type { ScheduleFlags } from "./spec.ts"
import { scheduleFromFlags } from "./spec.ts"

export interface CreateArgs extends ScheduleFlags {
  readonly namespace: string
}

const firstBackup = (flags: Pick<ScheduleFlags, "paused" | "skipImmediately" | "name">, namespace: string) =>
  flags.paused
    ? `It is paused: no backup runs until \`${arkCommand(namespace, `schedule unpause ${flags.name}`)}\`.`
    : flags.skipImmediately
    ? "Its first backup runs at the schedule's next time after the Ark server sees it."
    : "Its first backup runs as soon as the Ark server sees it."

export const createSchedule = Effect.fn("Cli.scheduleCreate")(function*(given: CreateArgs) {
  const kube = yield* KubeClient
  // A schedule that names no location keeps the one marked default now, if any, as `backup create`
  // does. Its flags are checked first: a bad one is refused before the cluster is asked anything.
  const args = Option.isNone(given.storageLocation)
    ? yield* scheduleFromFlags(given, given.namespace).pipe(
      Effect.zipRight(markedDefaultLocation(given.namespace)),
      Effect.map((storageLocation) => ({ ...given, storageLocation }))
    )
    : given
  const schedule = yield* scheduleFromFlags(args, args.namespace)
  // As `backup create` does: the locations the user named must exist; the defaults are the server's to check.
  if (Option.isSome(args.storageLocation)) {
    yield* requireExisting(backupStorageLocationsGvr, "--storage-location")(
      schedule.spec.template.storageLocation,
      args.namespace
    )
  }
  for (const location of args.volumeSnapshotLocations) {
    yield* requireExisting(volumeSnapshotLocationsGvr, "--volume-snapshot-locations")(location, args.namespace)
  }
  yield* checkResourcesExist({ ...args, orderedResources: schedule.spec.template.orderedResources }, args.namespace)
  const encoded = yield* Schema.encode(Schedule)(schedule).pipe(
    Effect.mapError((error) => new CliError({ message: `cannot encode schedule "${args.name}": ${error.message}` }))
  )
  yield* kube.create(schedulesGvr, encoded).pipe(
    Effect.mapError((error) =>
      error._tag === "KubeAlreadyExists"
        ? new CliError({
          message: `schedule "${args.name}" already exists in namespace ${args.namespace}`,
          hint: `choose another name, or \`${arkCommand(args.namespace, `schedule delete ${args.name}`)}\` first`
        })
        : kubeFailure(`cannot create schedule "${args.name}"`, args.namespace)(error)
    )
  )
  yield* Console.log(
    `Schedule "${args.name}" created successfully. ${firstBackup(args, args.namespace)}\n` +
      `Run \`${arkCommand(args.namespace, `schedule describe ${args.name}`)}\` or \`${
        arkCommand(args.namespace, "backup get")
      }\` to follow it.`
  )
})
