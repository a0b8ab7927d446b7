// The backup-deletion controller: every DeleteBackupRequest in the server namespace (from `ark
// backup delete` or TTL expiry) deletes its backup in its own supervised fiber. Status flow:
// New → InProgress → Processed. An unfinished deletion keeps the request InProgress with its
// errors and is tried again with backoff until it finishes; a refused one (a backup in progress,
// a missing or ReadOnly location) is Processed with the reason and nothing deleted. Processed
// requests are kept a day for `kubectl get`, then deleted (as Velero does).
import { Data, DateTime, Duration, Effect, Layer, Option, Schedule } from "effect"

import { BlockStoreProvider } from "../../../services/BlockStoreProvider.ts"
import type { KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import { backupNameLabel, nameMarkers, namesIt, withMarkers } from "../../api/index.ts"
import type { DeletionResult } from "../../deletion/backup.ts"
import { deleteBackup } from "../../deletion/backup.ts"
import { deleteBackupRequestsGvr, isProcessed, phaseOf, requestedBackup, requestsFor } from "../../deletion/requests.ts"
import { backupSchedule, recordDeletion } from "../metrics.ts"
import { createdAt, pruneRequests } from "../requestPruning.ts"
import type { ReconcileContext } from "../supervisor.ts"
import { failureReason, supervise } from "../supervisor.ts"
import { backupsGvr } from "./backup.ts"

export interface BackupDeletionControllerConfig {
  readonly namespace: string
  /** Deletions that run at once; default 2. */
  readonly concurrency?: number
  /** Waits between attempts of an unfinished deletion; default exponential from 5s, capped at 5m. */
  readonly retry?: Schedule.Schedule<unknown, unknown>
  /** How long a Processed request is kept after its creation; default 24 hours. */
  readonly processedRetention?: Duration.DurationInput
  /** Time between two passes deleting Processed requests past their retention; default 1 hour. */
  readonly pruningPeriod?: Duration.DurationInput
}

export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential(Duration.seconds(5)).pipe(
  Schedule.union(Schedule.spaced(Duration.minutes(5)))
)

/** An attempt left work undone; its errors are already in the request's status. */
class DeletionIncomplete extends Data.TaggedError("DeletionIncomplete")<{ readonly errors: ReadonlyArray<string> }> {}

export const make = (config: BackupDeletionControllerConfig) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const objectStores = yield* ObjectStoreProvider
    // `ark server` provides it; without it a backup with snapshots cannot finish deleting, and says so.
    const blockStores = yield* Effect.serviceOption(BlockStoreProvider)
    const { namespace } = config
    const retry = config.retry ?? defaultRetry

    // Two requests for one backup take turns; the first to finish deletes the other.
    const locks = new Map<string, Effect.Semaphore>()
    const lockOf = (backupName: string) =>
      Effect.sync(() => {
        const existing = locks.get(backupName)
        if (existing !== undefined) return existing
        const created = Effect.unsafeMakeSemaphore(1)
        locks.set(backupName, created)
        return created
      })

    const patchStatus = (name: string, status: Record<string, unknown>) =>
      kube.patchStatus(deleteBackupRequestsGvr, name, { type: "merge", body: { status } }, namespace)

    const deleteOnce = (backupName: string, schedule: string) =>
      deleteBackup(backupName, namespace, blockStores).pipe(
        Effect.tap((result) => recordDeletion(schedule, result)),
        Effect.provideService(KubeClient, kube),
        Effect.provideService(ObjectStoreProvider, objectStores)
      )

    /** For the metrics: the schedule of the backup, "" when it has none or is gone. */
    const scheduleOf = (backupName: string) =>
      kube.get(backupsGvr, backupName, namespace).pipe(
        Effect.map((backup) => backupSchedule(backup)),
        Effect.orElseSucceed(() => "")
      )

    /** Deletes the other requests for the backup: whatever they asked for is settled. */
    const deleteOtherRequests = (backupName: string, uid: string) =>
      requestsFor(backupName, namespace).pipe(
        Effect.provideService(KubeClient, kube),
        Effect.flatMap((requests) =>
          Effect.forEach(
            requests.filter((request) => request.metadata.uid !== uid),
            (request) =>
              kube.delete(deleteBackupRequestsGvr, request.metadata.name ?? "", namespace).pipe(
                Effect.catchTag("KubeNotFound", () => Effect.void)
              ),
            { discard: true }
          )
        ),
        Effect.catchAll((error) =>
          Effect.logWarning(`cannot delete the other requests for backup ${backupName}`, error.message)
        )
      )

    const processRequest = (uid: string, name: string, context: ReconcileContext) =>
      Effect.gen(function*() {
        const request = yield* kube.get(deleteBackupRequestsGvr, name, namespace)
        if (request.metadata.uid !== uid || isProcessed(request)) return
        const backupName = requestedBackup(request)
        if (backupName === "") {
          yield* patchStatus(name, { phase: "Processed", errors: ["spec.backupName: the request names no backup"] })
          return
        }
        if (!namesIt(request, backupNameLabel, backupName)) {
          yield* kube.patch(deleteBackupRequestsGvr, name, {
            type: "merge",
            body: { metadata: withMarkers({}, nameMarkers({ [backupNameLabel]: backupName })) }
          }, namespace)
        }
        if (phaseOf(request) !== "InProgress") yield* patchStatus(name, { phase: "InProgress" })
        yield* Effect.logInfo(`deleting backup ${backupName}`)

        const lock = yield* lockOf(backupName)
        const schedule = yield* scheduleOf(backupName)
        const attempt = Effect.gen(function*() {
          const result: DeletionResult = yield* context.limited(lock.withPermits(1)(deleteOnce(backupName, schedule)))
          if (result._tag !== "Incomplete") return result
          yield* patchStatus(name, { phase: "InProgress", errors: result.errors })
          yield* Effect.logWarning(
            `deleting backup ${backupName} is unfinished; trying again: ${result.errors.join("; ")}`
          )
          return yield* new DeletionIncomplete({ errors: result.errors })
        })
        // Until it finishes: a status write that fails is retried the same way.
        const result = yield* attempt.pipe(
          Effect.tapError((error) =>
            error._tag === "DeletionIncomplete"
              ? Effect.void
              : Effect.logWarning("cannot write the request's status; trying again", error.message)
          ),
          Effect.retry({ schedule: retry, while: (error) => error._tag !== "KubeNotFound" })
        )

        const errors = result._tag === "Refused" ? result.errors : []
        yield* patchStatus(name, { phase: "Processed", errors: errors.length > 0 ? errors : null })
        yield* deleteOtherRequests(backupName, uid)
        switch (result._tag) {
          case "Deleted":
            return yield* Effect.logInfo(
              `backup ${backupName} deleted: ${result.files} file(s), ${result.snapshots} snapshot(s), ` +
                `${result.restores.length} restore(s)`
            )
          case "NotFound":
            return yield* Effect.logInfo(`backup ${backupName} does not exist: nothing to delete`)
          case "Refused":
            return yield* Effect.logWarning(`backup ${backupName} not deleted: ${errors.join("; ")}`)
        }
      }).pipe(
        Effect.catchTag("KubeNotFound", () => Effect.logInfo("delete backup request deleted before it finished"))
      )

    const reconcile = (object: KubeObject, context: ReconcileContext) => {
      const { name, uid } = object.metadata
      if (name === undefined || uid === undefined || isProcessed(object)) return Option.none()
      return Option.some(processRequest(uid, name, context))
    }

    const retention = config.processedRetention ?? "24 hours"
    yield* Effect.forkScoped(
      pruneRequests({
        controller: "backup-deletion",
        gvr: deleteBackupRequestsGvr,
        namespace,
        period: config.pruningPeriod ?? "1 hour",
        what: "processed delete backup request(s)",
        isExpired: (request, now) => {
          const created = createdAt(request)
          return isProcessed(request) && created !== undefined &&
            DateTime.lessThan(DateTime.addDuration(created, retention), now)
        }
      }).pipe(Effect.provideService(KubeClient, kube))
    )

    return yield* supervise({
      name: "backup-deletion",
      gvr: deleteBackupRequestsGvr,
      namespace,
      concurrency: config.concurrency ?? 2,
      reconcile,
      // Only a defect gets here; the request keeps its phase and says what happened.
      onFailure: (object, cause) => patchStatus(object.metadata.name ?? "", { errors: [failureReason(cause)] })
    })
  })

/** Uses the BlockStoreProvider of its context when present (see `make`). */
export const layer = (
  config: BackupDeletionControllerConfig
): Layer.Layer<never, never, KubeClient | ObjectStoreProvider> => Layer.scopedDiscard(Effect.forkScoped(make(config)))
