// One sync pass of one BackupStorageLocation (docs/design.md, "Object-storage sync"): storage is
// the source of truth, so committed backups become Backup resources and finished Backups whose
// files are gone are deleted; but nothing is deleted unless the location was listed completely,
// looks like Ark's own, and still points where the Backup was stored (its storage identity, marker
// included). Sync never writes to storage, so a ReadOnly location is synced like any other.
import { DateTime, Effect, Either, Option } from "effect"

import type { KubeError } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectNotFound, ObjectStoreError } from "../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import type { BackupStorageLocation } from "../api/index.ts"
import { toTimestamp } from "../api/index.ts"
import { readIdentities } from "../integrity/encryption.ts"
import { readLocationKeys } from "../integrity/signature.ts"
import { sameIdentity, storageIdentityOf } from "../locations/marker.ts"
import { backupStorageLocationsGvr } from "../locations/resolve.ts"
import { backupsGvr, listClusterBackups, toClusterBackup } from "./cluster.ts"
import { SyncFailed } from "./errors.ts"
import type { StoredBackupRejected } from "./import.ts"
import { importedResource, readStoredBackup } from "./import.ts"
import { listLocationContents } from "./listing.ts"
import { encodeStorageIdentity, storageIdentityAnnotation } from "./markers.ts"
import type { ClusterBackup } from "./plan.ts"
import { isPrunable, planSync } from "./plan.ts"

export interface SyncReport {
  readonly location: string
  readonly imported: ReadonlyArray<string>
  /** Imports of an earlier pass whose status is now written. */
  readonly finished: ReadonlyArray<string>
  readonly pruned: ReadonlyArray<string>
  /** Left alone on purpose, one line each: a file that does not decode, a name already taken. */
  readonly skipped: ReadonlyArray<string>
  /** Actions that failed on an API or storage error, one line each; the next pass retries them. */
  readonly failed: ReadonlyArray<string>
  /** Why nothing was pruned although something would have been. */
  readonly pruneBlocked: string | undefined
}

type Outcome =
  | { readonly _tag: "Done"; readonly name: string }
  | { readonly _tag: "Skipped"; readonly name: string; readonly reason: string }
  | { readonly _tag: "Failed"; readonly name: string; readonly reason: string }

const done = (name: string): Outcome => ({ _tag: "Done", name })

/** Actions of one pass run at once: a large migration should not take many periods. */
const ACTION_CONCURRENCY = 4

/** Store and API failures are worth another try; a file that cannot be imported, or a taken name, is not. */
const classify =
  (name: string) =>
  (error: StoredBackupRejected | ObjectNotFound | ObjectStoreError | KubeError): Effect.Effect<Outcome> => {
    switch (error._tag) {
      case "StoredBackupRejected":
      case "KubeInvalid":
        return Effect.logWarning(`backup ${name} left alone: ${error.message}`).pipe(
          Effect.as<Outcome>({ _tag: "Skipped", name, reason: error.message })
        )
      case "ObjectNotFound":
        return Effect.succeed({ _tag: "Skipped", name, reason: "its ark-backup.json was deleted during the sync" })
      case "KubeAlreadyExists":
        return Effect.succeed({ _tag: "Skipped", name, reason: "a Backup of that name was created during the sync" })
      default:
        return Effect.logWarning(`backup ${name}: ${error.message}; retried next sync`).pipe(
          Effect.as<Outcome>({ _tag: "Failed", name, reason: error.message })
        )
    }
  }

export const syncLocation = Effect.fn("Sync.location")(function*(location: BackupStorageLocation) {
  const kube = yield* KubeClient
  const provider = yield* ObjectStoreProvider
  const locationName = location.metadata.name ?? ""
  const namespace = location.metadata.namespace ?? ""
  const failed = (reason: string) => (error: { readonly message: string }) =>
    new SyncFailed({ location: locationName, reason: `${reason}: ${error.message}`, cause: error })

  const store = yield* provider.forLocation(location).pipe(Effect.mapError(failed("cannot open its store")))
  // The cluster before the location: Completed is written only after ark-backup.json is committed,
  // so a Backup that completes during this pass is in the listing below, never taken for deleted.
  const cluster = yield* listClusterBackups(namespace).pipe(Effect.mapError(failed("cannot list Backups")))
  const contents = yield* listLocationContents(store).pipe(Effect.mapError(failed("listing the location failed")))
  const current = Option.getOrUndefined(Option.map(contents.marker, (marker) => storageIdentityOf(location, marker)))
  const plan = planSync({ location: locationName, locationPhase: location.status?.phase, cluster, contents, current })
  if (plan.pruneBlocked !== undefined) yield* Effect.logWarning(`not pruning Backups: ${plan.pruneBlocked}`)

  // A location with a verification key imports only backups whose signature and files check out;
  // a key that cannot be read imports nothing.
  const keys = yield* readLocationKeys(kube, location).pipe(Effect.mapError(failed("cannot read its keys")))
  // With the location's identity, an encrypted backup is imported whole, not as its minimal ark-backup.json.
  const identities = Either.getRight(yield* readIdentities(kube, location))
  const stored = (name: string) =>
    readStoredBackup(store, name, Option.getOrUndefined(keys.verification), identities).pipe(
      Effect.flatMap((backup) => importedResource(backup, locationName, namespace, current))
    )

  // Seen committed where the location points: from now on it is pruned only while it still points there.
  const adopt = (backup: ClusterBackup) =>
    current === undefined
      ? Effect.succeed(done(backup.name))
      : kube.patch(backupsGvr, backup.name, {
        type: "merge",
        body: { metadata: { annotations: { [storageIdentityAnnotation]: encodeStorageIdentity(current) } } }
      }, namespace).pipe(
        Effect.as(done(backup.name)),
        Effect.catchTag("KubeNotFound", () =>
          Effect.succeed<Outcome>({ _tag: "Skipped", name: backup.name, reason: "it was deleted during the sync" })),
        Effect.catchAll(classify(backup.name))
      )

  const importBackup = (name: string) =>
    stored(name).pipe(
      Effect.flatMap(({ resource, status }) =>
        kube.create(backupsGvr, resource).pipe(
          Effect.zipRight(kube.patchStatus(backupsGvr, name, { type: "merge", body: { status } }, namespace))
        )
      ),
      Effect.as(done(name)),
      Effect.tap(() => Effect.logInfo(`imported backup ${name}`)),
      Effect.catchAll(classify(name))
    )

  const finishImport = (name: string) =>
    stored(name).pipe(
      Effect.flatMap(({ status }) =>
        kube.patchStatus(backupsGvr, name, { type: "merge", body: { status } }, namespace)
      ),
      Effect.as(done(name)),
      Effect.tap(() => Effect.logInfo(`finished importing backup ${name}`)),
      Effect.catchAll(classify(name))
    )

  // Read again just before deleting: the Backup may have been replaced, or started deleting, since the list.
  const prune = (backup: ClusterBackup) =>
    kube.get(backupsGvr, backup.name, namespace).pipe(
      Effect.flatMap((object) => {
        const now = toClusterBackup(object)
        return now.uid === backup.uid && now.storageLocation === locationName && isPrunable(now) &&
            now.identity !== undefined && current !== undefined && sameIdentity(now.identity, current)
          ? kube.delete(backupsGvr, backup.name, namespace).pipe(
            Effect.as(done(backup.name)),
            Effect.tap(() => Effect.logInfo(`deleted Backup ${backup.name}: its files are gone from the location`))
          )
          : Effect.succeed<Outcome>({ _tag: "Skipped", name: backup.name, reason: "it changed during the sync" })
      }),
      Effect.catchTag("KubeNotFound", () =>
        Effect.succeed<Outcome>({ _tag: "Skipped", name: backup.name, reason: "it was deleted during the sync" })),
      Effect.catchAll(classify(backup.name))
    )

  const options = { concurrency: ACTION_CONCURRENCY }
  const imports = yield* Effect.forEach(plan.imports, (name) => importBackup(name), options)
  const finishes = yield* Effect.forEach(plan.finishes, (name) => finishImport(name), options)
  const prunes = yield* Effect.forEach(plan.prunes, (backup) => prune(backup), options)
  const adoptions = yield* Effect.forEach(plan.adoptions, (backup) => adopt(backup), options)
  const all = [...imports, ...finishes, ...prunes, ...adoptions]
  const report: SyncReport = {
    location: locationName,
    imported: names(imports, "Done"),
    finished: names(finishes, "Done"),
    pruned: names(prunes, "Done"),
    skipped: all.flatMap((outcome) => outcome._tag === "Skipped" ? [`${outcome.name}: ${outcome.reason}`] : []),
    failed: all.flatMap((outcome) => outcome._tag === "Failed" ? [`${outcome.name}: ${outcome.reason}`] : []),
    pruneBlocked: plan.pruneBlocked
  }
  // lastSyncedTime means "storage and cluster agreed then": not after a pass with failed actions.
  const now = yield* DateTime.now
  const status = {
    ...(current === undefined ? {} : { storageIdentity: current }),
    // null removes it (merge patch): the status tells why Backups are kept only while they are.
    syncMessage: plan.pruneBlocked ?? null,
    ...(report.failed.length === 0 ? { lastSyncedTime: toTimestamp(now) } : {})
  }
  yield* kube.patchStatus(backupStorageLocationsGvr, locationName, { type: "merge", body: { status } }, namespace)
    .pipe(Effect.mapError(failed("cannot record the sync in the location's status")))
  return report
}, (effect, location) => Effect.annotateLogs(effect, { location: location.metadata.name ?? "" }))

const names = (outcomes: ReadonlyArray<Outcome>, tag: Outcome["_tag"]) =>
  outcomes.flatMap((outcome) => outcome._tag === tag ? [outcome.name] : [])
