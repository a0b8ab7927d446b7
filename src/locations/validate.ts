// Whether a BackupStorageLocation is reachable: its store can be built and its prefix listed.
import { DateTime, Duration, Effect } from "effect"

import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import type { BackupStorageLocation, LocationPhase } from "../api/index.ts"
import { toTimestamp } from "../api/index.ts"
import { ensureMarker } from "./marker.ts"
import { backupStorageLocationsGvr } from "./resolve.ts"

export interface LocationCheck {
  readonly phase: LocationPhase
  readonly message: string
}

/** A listing slower than this counts as unreachable: a hung endpoint must not hang validation. */
const LIST_TIMEOUT = Duration.seconds(30)

const describeStore = (location: BackupStorageLocation) => {
  const { bucket, prefix } = location.spec.objectStorage
  return prefix === undefined || prefix === "" ? `bucket ${bucket}` : `bucket ${bucket} prefix ${prefix}`
}

/** Never fails: every problem (a writable prefix whose marker cannot be written too) becomes Unavailable with the reason. */
export const checkLocation = Effect.fn("Locations.check")(function*(location: BackupStorageLocation) {
  const provider = yield* ObjectStoreProvider
  return yield* provider.forLocation(location).pipe(
    // A writable prefix gets its marker here, before any backup is written to it.
    Effect.flatMap((store) =>
      store.list("", { delimiter: "/" }).pipe(
        Effect.zipRight(location.spec.accessMode === "ReadWrite" ? ensureMarker(store) : Effect.void)
      )
    ),
    Effect.timeoutFail({
      duration: LIST_TIMEOUT,
      onTimeout: () => ({ message: `listing timed out after ${Duration.format(LIST_TIMEOUT)}` })
    }),
    Effect.match({
      onFailure: (error): LocationCheck => ({
        phase: "Unavailable",
        message: `${describeStore(location)}: ${error.message}`
      }),
      onSuccess: (): LocationCheck => ({ phase: "Available", message: `${describeStore(location)} is reachable` })
    })
  )
})

/** Checks the location and records the outcome in its status. */
export const validateLocation = Effect.fn("Locations.validate")(function*(location: BackupStorageLocation) {
  const kube = yield* KubeClient
  const check = yield* checkLocation(location)
  const now = yield* DateTime.now
  yield* kube.patchStatus(
    backupStorageLocationsGvr,
    location.metadata.name ?? "",
    {
      type: "merge",
      body: { status: { phase: check.phase, message: check.message, lastValidationTime: toTimestamp(now) } }
    },
    location.metadata.namespace
  )
  return check
})
