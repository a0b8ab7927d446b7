// Which stored file a DownloadRequest target names (docs/design.md, "Storage layout"). Pure: the
// controller resolves the backup that holds the file, this says where in its store the file is.
import type { DownloadTargetKind } from "../api/index.ts"
import { backupKeys, restoreKeys } from "../archive/layout.ts"

/** Backup files are named by the backup; restore files by the restore, in its backup's store. */
export const isRestoreTarget = (kind: DownloadTargetKind): boolean => kind === "RestoreLog" || kind === "RestoreResults"

/** The object key of the target's file, relative to its location's prefix. */
export const targetKey = (kind: DownloadTargetKind, name: string): string => {
  switch (kind) {
    case "BackupContents":
      return backupKeys(name).tarball
    case "BackupLog":
      return backupKeys(name).logs
    case "BackupResourceList":
      return backupKeys(name).resourceList
    case "RestoreLog":
      return restoreKeys(name).logs
    case "RestoreResults":
      return restoreKeys(name).results
  }
}
