// What sync writes on the Backups it imports from object storage.
import type { KubeObject } from "../../services/KubeClient.ts"

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
