import type { Schema } from "effect"

import { Backup } from "./backup.ts"
import { BackupStorageLocation, VolumeSnapshotLocation } from "./locations.ts"
import { DeleteBackupRequest, DownloadRequest } from "./requests.ts"
import { Restore } from "./restore.ts"
import { Schedule } from "./schedule.ts"

export * from "./backup.ts"
export * from "./common.ts"
export * from "./duration.ts"
export * from "./errors.ts"
export * from "./labels.ts"
export * from "./locations.ts"
export * from "./requests.ts"
export * from "./restore.ts"
export * from "./schedule.ts"

/** A column of `kubectl get` (apiextensions.k8s.io/v1 CustomResourceColumnDefinition). */
export interface PrinterColumn {
  readonly name: string
  readonly type: "string" | "integer" | "number" | "boolean" | "date"
  readonly jsonPath: string
  readonly description?: string
}

export interface KindInfo {
  readonly kind: string
  readonly listKind: string
  readonly plural: string
  readonly singular: string
  readonly shortNames: ReadonlyArray<string>
  readonly schema: Schema.Schema.AnyNoContext
  readonly printerColumns: ReadonlyArray<PrinterColumn>
}

const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }
const phase: PrinterColumn = { name: "Phase", type: "string", jsonPath: ".status.phase" }
const provider: PrinterColumn = { name: "Provider", type: "string", jsonPath: ".spec.provider" }

const kind = (
  name: string,
  schema: Schema.Schema.AnyNoContext,
  printerColumns: ReadonlyArray<PrinterColumn>,
  shortNames: ReadonlyArray<string> = []
): KindInfo => ({
  kind: name,
  listKind: `${name}List`,
  plural: `${name.toLowerCase()}s`,
  singular: name.toLowerCase(),
  shortNames,
  schema,
  printerColumns
})

/** Every custom resource Ark defines, in the order the CRDs are listed. */
export const kinds = {
  Backup: kind("Backup", Backup, [
    phase,
    { name: "Items", type: "integer", jsonPath: ".status.progress.itemsBackedUp" },
    { name: "Expires", type: "date", jsonPath: ".status.expiration" },
    age
  ]),
  Restore: kind("Restore", Restore, [
    { name: "Backup", type: "string", jsonPath: ".spec.backupName" },
    phase,
    age
  ]),
  Schedule: kind("Schedule", Schedule, [
    { name: "Schedule", type: "string", jsonPath: ".spec.schedule" },
    phase,
    { name: "Last Backup", type: "date", jsonPath: ".status.lastBackup" },
    { name: "Paused", type: "boolean", jsonPath: ".spec.paused" },
    age
  ]),
  BackupStorageLocation: kind("BackupStorageLocation", BackupStorageLocation, [
    provider,
    { name: "Bucket", type: "string", jsonPath: ".spec.objectStorage.bucket" },
    { name: "Prefix", type: "string", jsonPath: ".spec.objectStorage.prefix" },
    { name: "Access Mode", type: "string", jsonPath: ".spec.accessMode" },
    phase,
    age
  ], ["bsl"]),
  VolumeSnapshotLocation: kind("VolumeSnapshotLocation", VolumeSnapshotLocation, [provider, phase, age], ["vsl"]),
  DeleteBackupRequest: kind("DeleteBackupRequest", DeleteBackupRequest, [
    { name: "Backup", type: "string", jsonPath: ".spec.backupName" },
    phase,
    age
  ]),
  DownloadRequest: kind("DownloadRequest", DownloadRequest, [
    { name: "Target Kind", type: "string", jsonPath: ".spec.target.kind" },
    { name: "Target", type: "string", jsonPath: ".spec.target.name" },
    phase,
    age
  ])
} as const satisfies Record<string, KindInfo>

export const kindList: ReadonlyArray<KindInfo> = Object.values(kinds)
