import { Schema } from "effect"

import {
  Count,
  GoDuration,
  LabelSelector,
  NamespaceList,
  optional,
  resource,
  ResourceList,
  StringMap,
  Timestamp,
  withDefault
} from "./common.ts"
import { ObjectLockMode } from "./locations.ts"

export const defaultBackupTtl = "720h"
export const defaultStorageLocation = "default"

/** One command run in a container of a matched pod (Velero's ExecHook). */
export const ExecHook = Schema.Struct({
  container: optional(Schema.String).annotations({ description: "Defaults to the pod's first container." }),
  command: Schema.Array(Schema.String).pipe(Schema.minItems(1)),
  onError: optional(Schema.Literal("Continue", "Fail")).annotations({
    description: "Fail fails the backup; Continue records a warning."
  }),
  timeout: optional(GoDuration)
})

export const BackupResourceHook = Schema.Struct({
  exec: ExecHook
})

/** Hooks run around the volume snapshots of every pod the filters match. */
export const BackupResourceHookSpec = Schema.Struct({
  name: Schema.String,
  includedNamespaces: optional(NamespaceList),
  excludedNamespaces: optional(NamespaceList),
  includedResources: optional(ResourceList),
  excludedResources: optional(ResourceList),
  labelSelector: optional(LabelSelector),
  pre: optional(Schema.Array(BackupResourceHook)),
  post: optional(Schema.Array(BackupResourceHook))
})

export const BackupHooks = Schema.Struct({
  resources: optional(Schema.Array(BackupResourceHookSpec))
})

/**
 * What to back up. Defaults are applied by the schema on decode, and published as OpenAPI defaults
 * in the CRD, so a decoded spec always carries them.
 */
export const BackupSpec = Schema.Struct({
  includedNamespaces: withDefault(NamespaceList, () => ["*"]),
  excludedNamespaces: optional(NamespaceList),
  includedResources: withDefault(ResourceList, () => ["*"]).annotations({
    description: "Resource names as the API server knows them: pods, deployments.apps, deploy, widgets.example.com."
  }),
  excludedResources: optional(ResourceList),
  labelSelector: optional(LabelSelector),
  orLabelSelectors: optional(Schema.Array(LabelSelector)).annotations({
    description: "Objects matching any of these selectors; mutually exclusive with labelSelector."
  }),
  includeClusterResources: optional(Schema.Boolean).annotations({
    description:
      "Unset: cluster-scoped resources are included when all namespaces are, otherwise only related PVs and CRDs."
  }),
  snapshotVolumes: withDefault(Schema.Boolean, () => true),
  ttl: withDefault(GoDuration, () => defaultBackupTtl).annotations({
    description: "How long the backup is kept after completion, as a Go duration (72h, 30m, 1h30m)."
  }),
  storageLocation: withDefault(Schema.String, () => defaultStorageLocation).annotations({
    description: "The BackupStorageLocation the backup is written to."
  }),
  volumeSnapshotLocations: optional(Schema.Array(Schema.String)),
  hooks: optional(BackupHooks),
  orderedResources: optional(StringMap).annotations({
    description: "Velero's orderedResources: a resource name to the objects of it written first, in this order, " +
      "as comma-separated namespace/name (name alone for cluster-scoped ones)."
  })
})
export type BackupSpec = typeof BackupSpec.Type

export const BackupPhase = Schema.Literal(
  "New",
  "FailedValidation",
  "InProgress",
  "Completed",
  "PartiallyFailed",
  "Failed",
  "Deleting"
)
export type BackupPhase = typeof BackupPhase.Type

export const BackupProgress = Schema.Struct({
  totalItems: optional(Count),
  itemsBackedUp: optional(Count)
})

/** One file of a backup in storage, named relative to the backup's folder, as it was written. */
export const StoredFile = Schema.Struct({
  name: Schema.String,
  size: Count,
  sha256: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))
})
export type StoredFile = typeof StoredFile.Type

export const BackupStatus = Schema.Struct({
  phase: optional(BackupPhase),
  validationErrors: optional(Schema.Array(Schema.String)),
  startTimestamp: optional(Timestamp),
  completionTimestamp: optional(Timestamp),
  expiration: optional(Timestamp).annotations({ description: "Completion time plus ttl." }),
  progress: optional(BackupProgress),
  warnings: optional(Count),
  errors: optional(Count),
  volumeSnapshotsAttempted: optional(Count),
  volumeSnapshotsCompleted: optional(Count),
  resourceVersion: optional(Schema.String).annotations({
    description: "The etcd revision the backup reflects."
  }),
  consistency: optional(Schema.Literal("Exact", "BestEffort")).annotations({
    description: "Exact when every listed resource was read at resourceVersion, else BestEffort."
  }),
  formatVersion: optional(Schema.String),
  failureReason: optional(Schema.String),
  verification: optional(Schema.Struct({
    phase: Schema.Literal("Verified", "Failed"),
    time: Timestamp,
    problems: optional(Schema.Array(Schema.String))
  })).annotations({
    description: "The server's read-back of the committed backup (ark server --verify-after-backup)."
  }),
  retention: optional(Schema.Struct({ mode: ObjectLockMode, retainUntil: Timestamp })).annotations({
    description: "S3 Object Lock on every file of the backup: deleting it is refused until retainUntil."
  }),
  files: optional(Schema.Array(StoredFile)).annotations({
    description: "Every file the backup wrote before ark-backup.json, with its size and SHA-256."
  }),
  encryption: optional(Schema.Literal("age")).annotations({
    description:
      "age: every file but ark-backup.json is encrypted for the location's recipients; files' digests are of the ciphertext."
  })
})
export type BackupStatus = typeof BackupStatus.Type

export const Backup = resource("Backup", BackupSpec, BackupStatus)
export type Backup = typeof Backup.Type
