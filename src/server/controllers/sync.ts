// The storage-sync controller: every period (the first pass at start) each BackupStorageLocation of
// the server namespace is synced with its object storage (src/sync). Locations are synced side by
// side and each one's failure is only logged: a down store never holds up another location, and the
// next period tries again. Runs in --restore-only mode too: a migration target learns its backups here.
import type { Duration } from "effect"
import { Cause, Effect, Either, Layer, Schedule } from "effect"

import type { KubeClient, KubeObject } from "../../../services/KubeClient.ts"
import type { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import { decodeLocation, listLocations } from "../../locations/resolve.ts"
import { syncLocation } from "../../sync/run.ts"

export interface SyncControllerConfig {
  readonly namespace: string
  /** `--backup-sync-period`: the time between the end of one pass and the start of the next. */
  readonly period: Duration.DurationInput
}

const syncObject = (object: KubeObject) =>
  Either.match(decodeLocation(object), {
    onLeft: (invalid) => Effect.logWarning(`not syncing: ${invalid.message}`),
    onRight: (location) =>
      syncLocation(location).pipe(
        Effect.tap((report) =>
          report.imported.length + report.finished.length + report.pruned.length > 0
            ? Effect.logInfo(
              `synced: ${report.imported.length} imported, ${report.finished.length} finished, ${report.pruned.length} pruned`
            )
            : Effect.logDebug("synced: nothing to do")
        ),
        Effect.catchAll((error) => Effect.logWarning(`${error.message}; retried next period`))
      )
  }).pipe(
    // A defect in one location's pass is logged; the others and the next period carry on.
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : Effect.logError("sync pass failed unexpectedly", cause)
    ),
    Effect.annotateLogs({ location: object.metadata.name ?? "" })
  )

/** One pass over every location of the namespace; never fails. */
export const syncAll = (namespace: string): Effect.Effect<void, never, KubeClient | ObjectStoreProvider> =>
  listLocations(namespace).pipe(
    Effect.flatMap((objects) =>
      Effect.forEach(objects, (object) => syncObject(object), { concurrency: "unbounded", discard: true })
    ),
    Effect.catchAll((error) =>
      Effect.logWarning(`cannot list backup storage locations; retried next period: ${error.message}`)
    )
  )

export const layer = (config: SyncControllerConfig): Layer.Layer<never, never, KubeClient | ObjectStoreProvider> =>
  Layer.scopedDiscard(
    Effect.forkScoped(
      syncAll(config.namespace).pipe(
        Effect.repeat(Schedule.spaced(config.period)),
        Effect.annotateLogs({ controller: "storage-sync" })
      )
    )
  )
