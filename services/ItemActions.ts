// Per-item behaviour a program embedding Ark adds without forking it, as Velero's BackupItemAction
// and RestoreItemAction plugins do. Ark's own per-kind restore rules are actions of the same shape
// (defaultRestoreItemActions); an embedding program's actions run after them, in the order given.
import type { Effect } from "effect"
import { Context, Data } from "effect"

import type { KubeObject } from "./KubeClient.ts"

/** Which items an action sees. Every field left out matches everything. */
export interface ItemSelector {
  /** Group-resources as Ark names them: "configmaps", "deployments.apps"; "*" for all. */
  readonly resources?: ReadonlyArray<string>
  /** Namespaces of namespaced items (for a restore: as backed up); cluster-scoped items never match a list. */
  readonly namespaces?: ReadonlyArray<string>
  /** A kubectl-style label selector, e.g. "app=web,tier!=db". */
  readonly labelSelector?: string
}

/** An object by its resource, namespace and name, as a backup stores it. */
export interface ItemReference {
  readonly groupResource: string
  readonly namespace?: string
  readonly name: string
}

/** An action's own failure: the item fails with this message, the rest of the run goes on. */
export class ItemActionError extends Data.TaggedError("ItemActionError")<{ readonly message: string }> {}

export interface BackupItemInput {
  readonly groupResource: string
  readonly item: KubeObject
  readonly backupName: string
}

export type BackupItemResult =
  /** Back this object up (changed or not), and these other objects from the cluster with it. */
  | { readonly _tag: "Keep"; readonly item: KubeObject; readonly additionalItems?: ReadonlyArray<ItemReference> }
  | { readonly _tag: "Skip"; readonly reason: string }

export interface BackupItemAction {
  readonly name: string
  readonly appliesTo: ItemSelector
  readonly execute: (input: BackupItemInput) => Effect.Effect<BackupItemResult, ItemActionError>
}

export interface RestoreItemInput {
  readonly groupResource: string
  /** The object as it will be created: cleared of server fields, in its target namespace. */
  readonly item: KubeObject
  /** The object as backed up. */
  readonly original: KubeObject
  readonly restoreName: string
  readonly backupName: string
  /** Backed-up namespace → the namespace it is restored into. */
  readonly namespaceMapping: Readonly<Record<string, string>>
  /** The Restore's preserveNodePorts. */
  readonly preserveNodePorts: boolean
}

export type RestoreItemResult =
  | { readonly _tag: "Restore"; readonly item: KubeObject }
  | { readonly _tag: "Skip"; readonly reason: string }

export interface RestoreItemAction {
  readonly name: string
  readonly appliesTo: ItemSelector
  /**
   * Decided from the backed-up object alone, in the restore's first pass, before anything is
   * created: an object skipped here leaves what it owns to be restored on their own account.
   */
  readonly skip?: (groupResource: string, original: KubeObject) => string | undefined
  /** Runs as the item is restored; may change it or skip it. */
  readonly execute?: (input: RestoreItemInput) => Effect.Effect<RestoreItemResult, ItemActionError>
}

/** The embedding program's backup actions; none unless it provides some. */
export class BackupItemActions extends Context.Reference<BackupItemActions>()("ark/BackupItemActions", {
  defaultValue: (): ReadonlyArray<BackupItemAction> => []
}) {}

/** The embedding program's restore actions, run after Ark's own; none unless it provides some. */
export class RestoreItemActions extends Context.Reference<RestoreItemActions>()("ark/RestoreItemActions", {
  defaultValue: (): ReadonlyArray<RestoreItemAction> => []
}) {}
