import { Schema } from "effect"

import { optional, resource, Timestamp } from "./common.ts"

export const DeleteBackupRequestSpec = Schema.Struct({
  backupName: Schema.String
})
export type DeleteBackupRequestSpec = typeof DeleteBackupRequestSpec.Type

export const DeleteBackupRequestPhase = Schema.Literal("New", "InProgress", "Processed")
export type DeleteBackupRequestPhase = typeof DeleteBackupRequestPhase.Type

export const DeleteBackupRequestStatus = Schema.Struct({
  phase: optional(DeleteBackupRequestPhase),
  errors: optional(Schema.Array(Schema.String)).annotations({
    description: "Problems met while deleting the backup."
  })
})
export type DeleteBackupRequestStatus = typeof DeleteBackupRequestStatus.Type

/** Deletes a backup: the resource, its files, its snapshots and its restores (user delete and TTL expiry). */
export const DeleteBackupRequest = resource("DeleteBackupRequest", DeleteBackupRequestSpec, DeleteBackupRequestStatus)
export type DeleteBackupRequest = typeof DeleteBackupRequest.Type

export const DownloadTargetKind = Schema.Literal(
  "BackupContents",
  "BackupLog",
  "BackupResourceList",
  "RestoreLog",
  "RestoreResults"
)
export type DownloadTargetKind = typeof DownloadTargetKind.Type

export const DownloadTarget = Schema.Struct({
  kind: DownloadTargetKind,
  name: Schema.propertySignature(Schema.String).annotations({ description: "The name of the Backup or Restore." })
})

export const DownloadRequestSpec = Schema.Struct({
  target: DownloadTarget
})
export type DownloadRequestSpec = typeof DownloadRequestSpec.Type

export const DownloadRequestPhase = Schema.Literal("New", "Processed")
export type DownloadRequestPhase = typeof DownloadRequestPhase.Type

export const DownloadRequestStatus = Schema.Struct({
  phase: optional(DownloadRequestPhase),
  downloadURL: optional(Schema.String).annotations({
    description: "A pre-signed S3 URL, or a local path for filesystem locations."
  }),
  expiration: optional(Timestamp)
})
export type DownloadRequestStatus = typeof DownloadRequestStatus.Type

export const DownloadRequest = resource("DownloadRequest", DownloadRequestSpec, DownloadRequestStatus)
export type DownloadRequest = typeof DownloadRequest.Type
