// The restore's item actions: Ark's own rules (transforms.ts, skips.ts) as RestoreItemActions,
// then the embedding program's (services/ItemActions.ts), through one runner. Skips are decided
// in the plan's pass; changes as each item is restored, before Ark's restore labels go on.
import { Effect, Either } from "effect"

import type { RestoreItemAction, RestoreItemInput } from "../../services/ItemActions.ts"
import { ItemActionError, RestoreItemActions } from "../../services/ItemActions.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import type { ActionIndex } from "../actions/index.ts"
import { indexActions } from "../actions/index.ts"
import { kindSkips, neverRestored } from "./skips.ts"
import type { Action, RestoreContext } from "./transforms.ts"
import {
  addRestoreLabels,
  dropOwnerReferences,
  dropServerFields,
  kindActions,
  mapObjectNamespace
} from "./transforms.ts"

const contextOfInput = (input: RestoreItemInput): RestoreContext => ({
  restoreName: input.restoreName,
  backupName: input.backupName,
  namespaceMapping: input.namespaceMapping,
  preserveNodePorts: input.preserveNodePorts
})

const transforming = (transforms: ReadonlyArray<Action>) => (input: RestoreItemInput) =>
  Effect.succeed({
    _tag: "Restore" as const,
    item: transforms.reduce((item, transform) => transform(item, contextOfInput(input)), input.item)
  })

/**
 * Ark's own rules, in the order they apply: server-owned fields and stale owners go first, then
 * each kind's rule, then the namespace mapping, so an embedding program's actions, which run
 * after these, see the object as it will be created.
 */
export const defaultRestoreItemActions: ReadonlyArray<RestoreItemAction> = [
  {
    name: "ark/never-restored",
    appliesTo: { resources: [...neverRestored] },
    skip: (groupResource) => `${groupResource} are never restored`
  },
  { name: "ark/server-fields", appliesTo: {}, execute: transforming([dropServerFields, dropOwnerReferences]) },
  ...[...new Set([...Object.keys(kindActions), ...Object.keys(kindSkips)])].map((groupResource): RestoreItemAction => {
    const skip = kindSkips[groupResource]
    const transforms = kindActions[groupResource]
    return {
      name: `ark/${groupResource}`,
      appliesTo: { resources: [groupResource] },
      ...(skip === undefined ? {} : { skip: (_: string, object: KubeObject) => skip(object) }),
      ...(transforms === undefined ? {} : { execute: transforming(transforms) })
    }
  }),
  { name: "ark/namespace-mapping", appliesTo: {}, execute: transforming([mapObjectNamespace]) }
]

/** What the actions made of an item. */
export type Applied =
  | { readonly _tag: "Restore"; readonly item: KubeObject }
  | { readonly _tag: "Skipped"; readonly reason: string }
  | { readonly _tag: "Failed"; readonly message: string }

export interface RestoreActions {
  /** The first skip reason of the actions for this backed-up object. */
  readonly skip: (groupResource: string, original: KubeObject) => string | undefined
  /** The object as the restore creates it, with Ark's labels; or why not. */
  readonly apply: (groupResource: string, original: KubeObject, context: RestoreContext) => Effect.Effect<Applied>
}

const failure = (error: unknown) =>
  error instanceof ItemActionError ? error.message : error instanceof Error ? error.message : String(error)

const runnerOf = (index: ActionIndex<RestoreItemAction>): RestoreActions => ({
  skip: (groupResource, original) => {
    for (const action of index.matching(groupResource, original)) {
      const reason = action.skip?.(groupResource, original)
      if (reason !== undefined) return action.name.startsWith("ark/") ? reason : `skipped by ${action.name}: ${reason}`
    }
    return undefined
  },
  apply: (groupResource, original, context) => {
    const actions = index.matching(groupResource, original)
    const input = (item: KubeObject): RestoreItemInput => ({
      groupResource,
      item,
      original,
      restoreName: context.restoreName,
      backupName: context.backupName,
      namespaceMapping: context.namespaceMapping,
      preserveNodePorts: context.preserveNodePorts === true
    })
    const step = (at: number, item: KubeObject): Effect.Effect<Applied> => {
      const action = actions[at]
      if (action === undefined) return Effect.succeed({ _tag: "Restore", item: addRestoreLabels(item, context) })
      if (action.execute === undefined) return step(at + 1, item)
      // An action is the embedding program's code: a throw or a defect fails this item only.
      return Effect.suspend(() => action.execute!(input(item))).pipe(
        Effect.either,
        Effect.catchAllDefect((defect) => Effect.succeed(Either.left(defect))),
        Effect.flatMap((result): Effect.Effect<Applied> => {
          if (Either.isLeft(result)) {
            return Effect.succeed({
              _tag: "Failed",
              message: `item action ${action.name} failed: ${failure(result.left)}`
            })
          }
          return result.right._tag === "Skip"
            ? Effect.succeed({ _tag: "Skipped", reason: `skipped by ${action.name}: ${result.right.reason}` })
            : step(at + 1, result.right.item)
        })
      )
    }
    return step(0, original)
  }
})

/** Ark's actions and the embedding program's; Left: the actions whose selectors do not parse. */
export const restoreActions = RestoreItemActions.pipe(
  Effect.map((extra) => Either.map(indexActions([...defaultRestoreItemActions, ...extra]), runnerOf))
)

/** Ark's own actions only: the plain pure rules, for callers with no program to consult. */
export const defaultRestoreActions: RestoreActions = Either.getOrThrow(
  Either.map(indexActions(defaultRestoreItemActions), runnerOf)
)
