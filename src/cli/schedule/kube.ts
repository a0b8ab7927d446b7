// Reading Schedules and the backups they made, from the CLI.
import { Effect, Either, Schema, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { Backup, formatDecodeError, nameSelector, namesIt, Schedule, scheduleNameLabel } from "../../api/index.ts"
import { backupsGvr, kubeFailure, schedulesGvr } from "../backup/kube.ts"
import { CliError } from "../errors.ts"

export { getSchedule, schedulesGvr } from "../backup/kube.ts"

const listAll = (gvr: GroupVersionResource, namespace: string, what: string, labelSelector?: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pages = yield* kube.listPages(gvr, {
      namespace,
      limit: 500,
      ...(labelSelector === undefined ? {} : { labelSelector })
    }).pipe(
      Stream.runCollect,
      Effect.mapError((error) => kubeFailure(`cannot list ${what}`, namespace)(error))
    )
    return [...pages].flatMap((page) => page.items)
  })

/** Every Schedule in the namespace, raw and decoded, by name. */
export const listSchedules = (namespace: string) =>
  listAll(schedulesGvr, namespace, "schedules").pipe(
    Effect.flatMap((objects) =>
      Effect.forEach(
        [...objects].sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "")),
        (raw: KubeObject) =>
          Schema.decodeUnknown(Schedule)(raw).pipe(
            Effect.map((decoded) => ({ raw, decoded })),
            Effect.mapError((error) =>
              new CliError({
                message: `schedule "${raw.metadata.name ?? ""}" is malformed: ${formatDecodeError(error).join("; ")}`,
                hint: "fix or recreate it with kubectl; it does not match Ark's CRD"
              })
            )
          )
      )
    )
  )

/** The backups a schedule made (by its label), newest first; ones that do not decode are left out. */
export const scheduleBackups = (schedule: string, namespace: string) =>
  listAll(backupsGvr, namespace, `the backups of schedule "${schedule}"`, nameSelector(scheduleNameLabel, schedule))
    .pipe(
      Effect.map((objects) =>
        objects
          .filter((object) => namesIt(object, scheduleNameLabel, schedule))
          .flatMap((object) =>
            Either.getOrElse(Either.map(Schema.decodeUnknownEither(Backup)(object), (backup) => [backup]), () => [])
          )
          .sort((a, b) =>
            (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? "") ||
            (b.metadata.name ?? "").localeCompare(a.metadata.name ?? "")
          )
      )
    )
