// The restore's item actions: Ark's own rules (transforms.ts, skips.ts) as RestoreItemActions,
// then the embedding program's (services/ItemActions.ts), through one runner, then the Restore's
// resource modifiers (modifiers/). Skips are decided in the plan's pass; changes as each item is
// restored, before Ark's restore labels go on.
import { Effect, Either } from "effect"

import type { RestoreItemAction, RestoreItemInput } from "../../services/ItemActions.ts"
import { RestoreItemActions } from "../../services/ItemActions.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import type { ActionIndex, Stopped } from "../actions/index.ts"
import { indexActions, runAction } from "../actions/index.ts"
import { applyResourceModifiers } from "./modifiers/apply.ts"
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

/**
 * Ark's own transforms are pure: the runner calls them directly rather than through their Effect,
 * which would cost a restore of 100k objects a second of CPU for nothing.
 */
const pureTransforms = new WeakMap<RestoreItemAction, ReadonlyArray<Action>>()

const pureOf = (
  action: RestoreItemAction | undefined
) => (action === undefined ? undefined : pureTransforms.get(action))

const transformAll = (transforms: ReadonlyArray<Action>, item: KubeObject, context: RestoreContext) =>
  transforms.reduce((current, transform) => transform(current, context), item)

const transforming = (action: RestoreItemAction, transforms: ReadonlyArray<Action>): RestoreItemAction => {
  const withExecute: RestoreItemAction = {
    ...action,
    execute: (input) =>
      Effect.succeed({ _tag: "Restore" as const, item: transformAll(transforms, input.item, contextOfInput(input)) })
  }
  pureTransforms.set(withExecute, transforms)
  return withExecute
}

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
  transforming({ name: "ark/server-fields", appliesTo: {} }, [dropServerFields, dropOwnerReferences]),
  ...[...new Set([...Object.keys(kindActions), ...Object.keys(kindSkips)])].map((groupResource): RestoreItemAction => {
    const skip = kindSkips[groupResource]
    const transforms = kindActions[groupResource]
    const action: RestoreItemAction = {
      name: `ark/${groupResource}`,
      appliesTo: { resources: [groupResource] },
      ...(skip === undefined ? {} : { skip: (_: string, object: KubeObject) => skip(object) })
    }
    return transforms === undefined ? action : transforming(action, transforms)
  }),
  transforming({ name: "ark/namespace-mapping", appliesTo: {} }, [mapObjectNamespace])
]

/** What the actions made of an item. */
export type Applied = { readonly _tag: "Restore"; readonly item: KubeObject } | Stopped

export interface RestoreActions {
  /** The first skip reason of the actions for this backed-up object. */
  readonly skip: (groupResource: string, original: KubeObject) => string | undefined
  /** The object as the restore creates it, with Ark's labels; or why not. */
  readonly apply: (groupResource: string, original: KubeObject, context: RestoreContext) => Effect.Effect<Applied>
}

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
    // The Restore's resource modifiers come after every action and before Ark's labels, as in Velero.
    const finish = (item: KubeObject): Applied => {
      if (context.resourceModifiers === undefined) return { _tag: "Restore", item: addRestoreLabels(item, context) }
      const modified = applyResourceModifiers(
        context.resourceModifiers,
        groupResource,
        item,
        original.metadata.namespace ?? ""
      )
      return Either.isLeft(modified)
        ? { _tag: "Failed", message: modified.left }
        : { _tag: "Restore", item: addRestoreLabels(modified.right.object, context) }
    }
    const step = (from: number, object: KubeObject): Effect.Effect<Applied> => {
      let at = from
      let item = object
      for (let pure = pureOf(actions[at]); pure !== undefined; pure = pureOf(actions[at])) {
        item = transformAll(pure, item, context)
        at += 1
      }
      const action = actions[at]
      if (action === undefined) return Effect.succeed(finish(item))
      if (action.execute === undefined) return step(at + 1, item)
      return runAction(action.name, () => action.execute!(input(item))).pipe(
        Effect.flatMap((result) =>
          Either.isLeft(result) ? Effect.succeed(result.left) : step(at + 1, result.right.item)
        )
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
