// What sync writes on the Backups it imports from object storage, and on every Backup it has seen
// stored where its location points.
import { Either, Schema } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { StorageIdentity } from "../api/index.ts"

/** On every imported Backup: the location whose `ark-backup.json` it came from. */
export const storageLocationLabel = "ark.heptio.com/storage-location"

/**
 * On every imported Backup. The API server drops status on create, so an import is phase-less until
 * sync writes its stored status; the backup controller must never take that for a new Backup to run.
 * Reserved: a Backup carrying it is never run, whatever its phase.
 */
export const importedBackupAnnotation = "ark.heptio.com/imported-from-storage"

export const isImportedBackup = (object: KubeObject): boolean =>
  object.metadata.annotations?.[importedBackupAnnotation] !== undefined

/**
 * On a Backup once sync has seen its `ark-backup.json` where its location points (or imported it from
 * there): that place's StorageIdentity, as JSON. Sync prunes a Backup only while its location still
 * points at exactly this identity.
 */
export const storageIdentityAnnotation = "ark.heptio.com/storage-identity"

const identityJson = Schema.parseJson(StorageIdentity)

export const storageIdentityOfBackup = (object: KubeObject): StorageIdentity | undefined => {
  const text = object.metadata.annotations?.[storageIdentityAnnotation]
  if (text === undefined) return undefined
  return Either.getOrUndefined(Schema.decodeUnknownEither(identityJson)(text))
}

export const encodeStorageIdentity = (identity: StorageIdentity): string =>
  JSON.stringify({ bucket: identity.bucket, prefix: identity.prefix, marker: identity.marker })
