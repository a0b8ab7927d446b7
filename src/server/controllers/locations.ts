// Location validation: every BackupStorageLocation is checked when it appears and then every
// period; status.phase says Available or Unavailable, with the reason in status.message.
import type { Duration } from "effect"
import { Cause, DateTime, Effect, Either, Layer, Option, Schedule } from "effect"

import type { KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import type { ObjectStoreProvider } from "../../../services/ObjectStoreProvider.ts"
import { toTimestamp } from "../../api/index.ts"
import { backupStorageLocationsGvr, decodeLocation, listLocations } from "../../locations/resolve.ts"
import { validateLocation } from "../../locations/validate.ts"
import { recordLocationPhase } from "../metrics.ts"
import { failureReason, supervise } from "../supervisor.ts"

export interface LocationControllerConfig {
  readonly namespace: string
  /** How often every location is checked again. */
  readonly validationPeriod: Duration.DurationInput
  /** Locations checked at once. */
  readonly concurrency?: number
}

const markUnavailable = (object: KubeObject, message: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const now = yield* DateTime.now
    yield* recordLocationPhase(object.metadata.name ?? "", "Unavailable")
    yield* kube.patchStatus(
      backupStorageLocationsGvr,
      object.metadata.name ?? "",
      { type: "merge", body: { status: { phase: "Unavailable", message, lastValidationTime: toTimestamp(now) } } },
      object.metadata.namespace
    )
  })

/** Checks one stored location; one that does not decode is Unavailable with the decode problems. */
const validateObject = (object: KubeObject) =>
  Either.match(decodeLocation(object), {
    onRight: (location) =>
      validateLocation(location).pipe(
        Effect.flatMap((check) => recordLocationPhase(object.metadata.name ?? "", check.phase))
      ),
    onLeft: (invalid) => markUnavailable(object, invalid.message)
  }).pipe(
    Effect.tap(() => Effect.logDebug(`validated backup storage location ${object.metadata.name ?? ""}`)),
    Effect.annotateLogs({ location: object.metadata.name ?? "" })
  )

const neverValidated = (object: KubeObject) => {
  const status = object["status"]
  return typeof status !== "object" || status === null || !("lastValidationTime" in status)
}

export const layer = (
  config: LocationControllerConfig
): Layer.Layer<never, never, KubeClient | ObjectStoreProvider> =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const concurrency = config.concurrency ?? 4
    // New locations are checked as soon as they appear...
    yield* Effect.forkScoped(supervise({
      name: "backup-storage-location",
      gvr: backupStorageLocationsGvr,
      namespace: config.namespace,
      concurrency,
      reconcile: (object) => neverValidated(object) ? Option.some(validateObject(object)) : Option.none(),
      // A defect while checking (a provider bug) still leaves a reason in the status.
      onFailure: (object, cause) => markUnavailable(object, failureReason(cause))
    }))
    // ...and all of them again every period: a store that goes down becomes Unavailable.
    const everyLocation = listLocations(config.namespace).pipe(
      Effect.flatMap((objects) =>
        Effect.forEach(objects, (object) =>
          validateObject(object).pipe(Effect.catchAllCause((cause) =>
            Effect.logWarning(`cannot validate backup storage location ${object.metadata.name ?? ""}`, cause).pipe(
              Effect.zipRight(
                Cause.isInterruptedOnly(cause) ? Effect.void : markUnavailable(object, failureReason(cause))
              ),
              Effect.ignore
            )
          )), { concurrency, discard: true })
      ),
      Effect.catchAll((error) =>
        Effect.logWarning("cannot list backup storage locations", error.message)
      )
    )
    yield* Effect.forkScoped(
      Effect.sleep(config.validationPeriod).pipe(
        Effect.zipRight(everyLocation),
        Effect.repeat(Schedule.spaced(config.validationPeriod)),
        Effect.annotateLogs({ controller: "backup-storage-location" })
      )
    )
  }))
