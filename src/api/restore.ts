import { Schema } from "effect"

import {
  Count,
  LabelSelector,
  NamespaceList,
  optional,
  resource,
  ResourceList,
  StringMap,
  Timestamp,
  withDefault
} from "./common.ts"

/** Velero's TypedLocalObjectReference to the resource modifiers; only kind ConfigMap is served. */
export const ResourceModifierReference = Schema.Struct({
  apiGroup: optional(Schema.String),
  kind: Schema.String,
  name: Schema.String
})
export type ResourceModifierReference = typeof ResourceModifierReference.Type

export const ExistingResourcePolicy = Schema.Literal("none", "update")
export type ExistingResourcePolicy = typeof ExistingResourcePolicy.Type

/** What to restore from which backup; unset filters mean everything in the backup. */
export const RestoreSpec = Schema.Struct({
  backupName: optional(Schema.String),
  scheduleName: optional(Schema.String).annotations({
    description: "Restore the latest successful backup of this schedule (when backupName is unset)."
  }),
  includedNamespaces: optional(NamespaceList),
  excludedNamespaces: optional(NamespaceList),
  includedResources: optional(ResourceList),
  excludedResources: optional(ResourceList),
  namespaceMapping: optional(StringMap).annotations({
    description: "Backed-up namespace to the namespace it is restored into."
  }),
  labelSelector: optional(LabelSelector),
  orLabelSelectors: optional(Schema.Array(LabelSelector)).annotations({
    description: "Objects matching any of these selectors; mutually exclusive with labelSelector."
  }),
  restorePVs: withDefault(Schema.Boolean, () => true),
  preserveNodePorts: optional(Schema.Boolean).annotations({
    description: "Keep every Service nodePort; by default only the ones written down by hand " +
      "(kubectl's last-applied configuration) are kept and the rest are allocated anew."
  }),
  includeClusterResources: optional(Schema.Boolean),
  existingResourcePolicy: withDefault(ExistingResourcePolicy, () => "none" as const).annotations({
    description: "none keeps a live object (warning when it differs); update patches it to the backed-up state."
  }),
  resourceModifier: optional(ResourceModifierReference).annotations({
    description: "A ConfigMap in the server namespace holding resource modifier rules (Velero's format, version v1) " +
      "applied to the objects before they are restored."
  })
})
export type RestoreSpec = typeof RestoreSpec.Type

export const RestorePhase = Schema.Literal(
  "New",
  "FailedValidation",
  "InProgress",
  "Completed",
  "PartiallyFailed",
  "Failed"
)
export type RestorePhase = typeof RestorePhase.Type

export const RestoreProgress = Schema.Struct({
  totalItems: optional(Count),
  itemsRestored: optional(Count)
})

/** How many skipped items share one reason. */
export const RestoreSkipReason = Schema.Struct({
  reason: Schema.String,
  count: Count
})

/** What happened to each item the restore selected; written when the restore ends. */
export const RestoreOutcomes = Schema.Struct({
  created: optional(Count),
  updated: optional(Count),
  unchanged: optional(Count).annotations({ description: "Already there and equal to the backup." }),
  skipped: optional(Count),
  failed: optional(Count),
  skippedReasons: optional(Schema.Array(RestoreSkipReason)).annotations({
    description: "Skipped items grouped by why, most frequent first."
  })
})
export type RestoreOutcomes = typeof RestoreOutcomes.Type

export const RestoreStatus = Schema.Struct({
  phase: optional(RestorePhase),
  validationErrors: optional(Schema.Array(Schema.String)),
  startTimestamp: optional(Timestamp),
  completionTimestamp: optional(Timestamp),
  progress: optional(RestoreProgress),
  outcomes: optional(RestoreOutcomes),
  warnings: optional(Count),
  errors: optional(Count),
  failureReason: optional(Schema.String)
})
export type RestoreStatus = typeof RestoreStatus.Type

export const Restore = resource("Restore", RestoreSpec, RestoreStatus)
export type Restore = typeof Restore.Type
