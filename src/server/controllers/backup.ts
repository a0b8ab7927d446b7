// The backup controller: every new Backup in the server namespace is validated, then run by the
// backup pipeline (src/backup) in its own supervised fiber, under the --backup-concurrency limit.
// Status flow: New → FailedValidation, or New → InProgress → Completed | PartiallyFailed | Failed.
import type { KeyObject } from "node:crypto"

import { DateTime, Duration, Effect, Layer, Option } from "effect"

import { BlockStoreProvider } from "../../../services/BlockStoreProvider.ts"
import { HookRunner } from "../../../services/HookRunner.ts"
import type { GroupVersionResource, KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { ObjectStore } from "../../../services/ObjectStore.ts"
import type { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import type { Backup, BackupStatus } from "../../api/index.ts"
import { group, kinds, toTimestamp, version } from "../../api/index.ts"
import { backupKeys } from "../../archive/layout.ts"
import { runBackup } from "../../backup/run.ts"
import type { VolumeServices } from "../../backup/volumes.ts"
import type { BackupProgress } from "../../backup/write.ts"
import { verifyBackup } from "../../integrity/verify.ts"
import { isImportedBackup } from "../../sync/markers.ts"
import { backupMetrics, backupSchedule, backupValidationFailed, countUploadedBytes, observeBackup } from "../metrics.ts"
import { throttledProgress } from "../progress.ts"
import type { ReconcileContext } from "../supervisor.ts"
import { failureReason, supervise } from "../supervisor.ts"
import { recoverInterruptedBackup } from "./backupRecovery.ts"
import { validateBackup } from "./backupValidation.ts"

export const backupsGvr: GroupVersionResource = { group, version, resource: kinds.Backup.plural }

export interface BackupControllerConfig {
  readonly namespace: string
  /** Backups run at once (`--backup-concurrency`); more wait in phase New. */
  readonly concurrency: number
  /** At most one status.progress write per interval while a backup runs. Default 1s. */
  readonly progressInterval?: Duration.DurationInput
  /** Read each committed backup back and record the result (`--verify-after-backup`). */
  readonly verifyAfterBackup?: boolean
}

/** What a server restart finds InProgress was cut short: it can never finish. */
export const interruptedByRestart = "the server stopped while this backup was in progress; run it again"
export const interruptedByShutdown = "the server shut down while this backup was in progress; run it again"

const phaseOf = (object: KubeObject): string | undefined => {
  const status = object["status"]
  if (typeof status !== "object" || status === null) return undefined
  const phase = (status as Record<string, unknown>)["phase"]
  return typeof phase === "string" ? phase : undefined
}

// A Backup imported from storage is phase-less until sync writes its stored status: never run it.
const isNew = (object: KubeObject) => {
  if (isImportedBackup(object)) return false
  const phase = phaseOf(object)
  return phase === undefined || phase === "" || phase === "New"
}

export const make = (config: BackupControllerConfig) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { namespace } = config
    const progressInterval = config.progressInterval ?? Duration.seconds(1)
    // `ark server` always provides both; a server built without them backs up objects only.
    const blockStores = yield* Effect.serviceOption(BlockStoreProvider)
    const hooks = yield* Effect.serviceOption(HookRunner)
    const volumes: VolumeServices | undefined = Option.isSome(blockStores) && Option.isSome(hooks)
      ? { blockStores: blockStores.value, hooks: hooks.value }
      : undefined

    const patchStatus = (name: string, status: Partial<BackupStatus> | Record<string, unknown>) =>
      kube.patchStatus(backupsGvr, name, { type: "merge", body: { status } }, namespace)

    const now = DateTime.now.pipe(Effect.map((time) => toTimestamp(time)))

    const markFailed = (name: string, reason: string) =>
      now.pipe(Effect.flatMap((completionTimestamp) =>
        patchStatus(name, { phase: "Failed", failureReason: reason, completionTimestamp })
      ))

    const run = Effect.fn("BackupController.run")(function*(
      object: KubeObject,
      backup: Backup,
      store: ObjectStore.Shape,
      storageLocations: ReadonlyArray<string>,
      signingKey: Option.Option<KeyObject>,
      recipients: Option.Option<ReadonlyArray<string>>
    ) {
      const name = object.metadata.name ?? ""
      const startTimestamp = yield* now
      // A full update: it conflicts if anyone touched the Backup since it was read.
      const started = yield* kube.updateStatus(backupsGvr, {
        ...object,
        status: { ...(object["status"] as object | undefined), phase: "InProgress", startTimestamp }
      })
      const startedBackup: Backup = {
        ...backup,
        metadata: {
          ...backup.metadata,
          ...(started.metadata.resourceVersion === undefined
            ? {}
            : { resourceVersion: started.metadata.resourceVersion })
        },
        status: { ...backup.status, phase: "InProgress", startTimestamp }
      }
      yield* Effect.logInfo("backup started")
      const tarball = yield* countUploadedBytes(store, backupKeys(name).tarball)
      const finished = yield* Effect.scoped(
        throttledProgress(
          (progress: BackupProgress) =>
            patchStatus(name, { progress }).pipe(Effect.asVoid),
          progressInterval
        ).pipe(
          Effect.flatMap((onProgress) =>
            runBackup(startedBackup, {
              storageLocations,
              onProgress,
              ...(volumes === undefined ? {} : { volumes }),
              ...Option.match(signingKey, { onNone: () => ({}), onSome: (key) => ({ signingKey: key }) }),
              ...Option.match(recipients, { onNone: () => ({}), onSome: (keys) => ({ recipients: keys }) })
            })
          )
        )
      ).pipe(
        Effect.provideService(ObjectStore, tarball.store),
        Effect.provideService(KubeClient, kube),
        Effect.onInterrupt(() =>
          markFailed(name, interruptedByShutdown).pipe(Effect.timeout(Duration.seconds(5)), Effect.ignore)
        ),
        observeBackup(backupSchedule(object), tarball.bytes)
      )
      yield* patchStatus(name, finished.status ?? {})
      yield* Effect.logInfo(`backup finished: ${finished.status?.phase ?? "unknown"}`)
      const committed = finished.status?.phase === "Completed" || finished.status?.phase === "PartiallyFailed"
      if (config.verifyAfterBackup === true && committed) {
        // Through the plain store: the read-back must see storage, not the counting wrapper.
        const report = yield* verifyBackup(store, name, { expectedItems: finished.status?.progress?.itemsBackedUp })
          .pipe(
            Effect.catchAll((error) => Effect.succeed({ problems: [`storage: ${error.message}`] }))
          )
        const time = yield* now
        yield* patchStatus(name, {
          verification: report.problems.length === 0
            ? { phase: "Verified", time }
            : { phase: "Failed", time, problems: report.problems }
        })
        yield* report.problems.length === 0
          ? Effect.logInfo("backup verified: every file read back as recorded")
          : Effect.logWarning(`backup failed verification: ${report.problems.join("; ")}`)
      }
    })

    /** A Backup in phase New: validate it, then run it under a concurrency permit. */
    const processNew = (uid: string, name: string, context: ReconcileContext) =>
      Effect.gen(function*() {
        const object = yield* kube.get(backupsGvr, name, namespace)
        if (object.metadata.uid !== uid || !isNew(object)) return
        const validated = yield* validateBackup(object, namespace).pipe(
          Effect.map((value) => Option.some(value)),
          Effect.catchTag("BackupValidationFailed", ({ problems }) =>
            patchStatus(name, { phase: "FailedValidation", validationErrors: problems }).pipe(
              Effect.zipRight(backupValidationFailed(backupSchedule(object))),
              Effect.zipRight(Effect.logInfo(`backup failed validation: ${problems.join("; ")}`)),
              Effect.as(Option.none())
            ))
        )
        if (Option.isNone(validated)) {
          return
        }
        const { backup, recipients, signingKey, store, storageLocations } = validated.value
        yield* context.limited(
          // Re-read under the permit: the Backup may have changed (or gone) while it waited.
          kube.get(backupsGvr, name, namespace).pipe(
            Effect.flatMap((current) =>
              current.metadata.uid === uid && isNew(current)
                ? run(current, backup, store, storageLocations, signingKey, recipients)
                : Effect.void
            )
          )
        )
      }).pipe(
        // Someone wrote the Backup between our read and the InProgress update: read it again.
        Effect.retry({
          while: (error) =>
            error._tag === "KubeConflict",
          times: 5
        }),
        Effect.catchTag("KubeNotFound", () =>
          Effect.logInfo("backup deleted before it ran"))
      )

    const reconcile = (object: KubeObject, context: ReconcileContext) => {
      const { name, uid } = object.metadata
      if (name === undefined || uid === undefined) return Option.none()
      if (isNew(object)) return Option.some(processNew(uid, name, context))
      if (context.initial && phaseOf(object) === "InProgress") {
        return Option.some(
          recoverInterruptedBackup(backupsGvr, object, namespace, interruptedByRestart).pipe(Effect.asVoid)
        )
      }
      return Option.none()
    }

    return yield* supervise({
      name: "backup",
      gvr: backupsGvr,
      namespace,
      concurrency: config.concurrency,
      reconcile,
      onFailure: (object, cause) => markFailed(object.metadata.name ?? "", failureReason(cause)),
      population: backupMetrics.existing
    })
  })

/** Uses the BlockStoreProvider and HookRunner of its context when present (see `make`). */
export const layer = (
  config: BackupControllerConfig
): Layer.Layer<never, never, KubeClient | ObjectStoreProvider> => Layer.scopedDiscard(Effect.forkScoped(make(config)))
