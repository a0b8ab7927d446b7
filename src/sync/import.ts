// Importing a committed backup: its stored Backup becomes a resource of this cluster (migration).
// Created first (the API server ignores status on create), then its stored status is written; a
// pass cut between the two leaves a phase-less import that the next pass finishes.
import type { KeyObject } from "node:crypto"

import { Data, Effect, Either, Option, Schema, Stream } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import type { ObjectNotFound, ObjectStore, ObjectStoreError } from "../../services/ObjectStore.ts"
import type { Backup, StorageIdentity } from "../api/index.ts"
import { Backup as BackupSchema, formatDecodeError, nameMarkers, withMarkers } from "../api/index.ts"
import { backupKeys } from "../archive/layout.ts"
import { isEncryptedBackup } from "../integrity/encryption.ts"
import { readWholeBackup } from "../integrity/minimal.ts"
import { verifyBackup } from "../integrity/verify.ts"
import {
  encodeStorageIdentity,
  importedBackupAnnotation,
  storageIdentityAnnotation,
  storageLocationLabel
} from "./markers.ts"

/** A committed `ark-backup.json` that cannot be imported: warned about, left alone. */
export class StoredBackupRejected extends Data.TaggedError("StoredBackupRejected")<{
  readonly key: string
  readonly reason: string
}> {
  override get message() {
    return `${this.key} is not imported: ${this.reason}`
  }
}

const decodeStored = Schema.decodeUnknownEither(Schema.parseJson(BackupSchema))
const encodeBackup = Schema.encodeEither(BackupSchema)

/** Only finished backups are ever committed; anything else in a committed file is not Ark's doing. */
const importablePhases: ReadonlyArray<string> = ["Completed", "PartiallyFailed"]

/**
 * The stored Backup of `name`, checked to be a finished backup of that very name; with a
 * verification key, also signed by it and with every file as recorded. An encrypted backup's is
 * minimal; with `identities`, its whole resource is read instead (the minimal one when that fails).
 */
export const readStoredBackup = (
  store: ObjectStore.Shape,
  name: string,
  verificationKey?: KeyObject,
  identities: Option.Option<ReadonlyArray<string>> = Option.none()
): Effect.Effect<Backup, StoredBackupRejected | ObjectNotFound | ObjectStoreError> =>
  Effect.gen(function*() {
    const key = backupKeys(name).metadata
    if (verificationKey !== undefined) {
      const { problems } = yield* verifyBackup(store, name, { verificationKey })
      if (problems.length > 0) return yield* new StoredBackupRejected({ key, reason: problems.join("; ") })
    }
    const text = yield* store.get(key).pipe(Stream.decodeText(), Stream.mkString)
    const decoded = decodeStored(text)
    if (Either.isLeft(decoded)) {
      return yield* new StoredBackupRejected({
        key,
        reason: `it does not decode: ${formatDecodeError(decoded.left).join("; ")}`
      })
    }
    const backup = decoded.right
    if (backup.metadata.name !== name) {
      return yield* new StoredBackupRejected({
        key,
        reason: `it names backup ${JSON.stringify(backup.metadata.name ?? "")}`
      })
    }
    const phase = backup.status?.phase
    if (phase === undefined || !importablePhases.includes(phase)) {
      return yield* new StoredBackupRejected({ key, reason: `its phase is ${phase ?? "unset"}, not a finished backup` })
    }
    if (!isEncryptedBackup(backup) || Option.isNone(identities)) return backup
    return yield* readWholeBackup(store, backup, identities.value).pipe(
      Effect.catchAll((why) =>
        Effect.logWarning(`backup ${name}: importing its minimal ark-backup.json: ${why}`).pipe(Effect.as(backup))
      )
    )
  })

/** What identifies the object in its old cluster (or would tie it to objects there) is dropped. */
const clusterSpecificMeta = new Set([
  "uid",
  "resourceVersion",
  "creationTimestamp",
  "managedFields",
  "generation",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  // Owners and finalizers name objects and controllers of the old cluster: a garbage collector
  // would delete a Backup whose owner uid does not exist here.
  "ownerReferences",
  "finalizers",
  "generateName"
])

export interface ImportedResource {
  /** What to create: no status, which the API server would drop anyway. */
  readonly resource: KubeObject
  /** What to write through the status subresource once it exists. */
  readonly status: Readonly<Record<string, unknown>>
}

/**
 * The Backup resource for a stored backup. Its spec names the location it was found in (the source
 * cluster may have called it something else): restores read from there, and sync prunes it when its
 * files leave that location while it still points at `identity`, where it was found.
 */
export const importedResource = (
  backup: Backup,
  location: string,
  namespace: string,
  identity: StorageIdentity | undefined
): Either.Either<ImportedResource, StoredBackupRejected> => {
  const name = backup.metadata.name ?? ""
  return Either.map(
    Either.mapLeft(
      encodeBackup(backup),
      (error) =>
        new StoredBackupRejected({ key: backupKeys(name).metadata, reason: formatDecodeError(error).join("; ") })
    ),
    (encoded): ImportedResource => {
      const metadata = Object.fromEntries(
        Object.entries(encoded.metadata).filter(([key]) => !clusterSpecificMeta.has(key))
      )
      // The source cluster's record of where it stored the backup does not hold here.
      const annotations = Object.fromEntries(
        Object.entries(encoded.metadata.annotations ?? {}).filter(([key]) => key !== storageIdentityAnnotation)
      )
      return {
        resource: {
          apiVersion: encoded.apiVersion,
          kind: encoded.kind,
          metadata: withMarkers({
            ...metadata,
            name,
            namespace,
            labels: { ...encoded.metadata.labels },
            annotations: {
              ...annotations,
              [importedBackupAnnotation]: "true",
              ...(identity === undefined ? {} : { [storageIdentityAnnotation]: encodeStorageIdentity(identity) })
            }
          }, nameMarkers({ [storageLocationLabel]: location })),
          spec: { ...encoded.spec, storageLocation: location }
        },
        status: encoded.status ?? {}
      }
    }
  )
}
