// The embedding program's backup item actions (services/ItemActions.ts), run on each selected
// object before it is written. Ark itself writes objects as listed, so with none registered the
// backup never calls this.
import { Effect, Either } from "effect"

import type { BackupItemAction, ItemReference } from "../../services/ItemActions.ts"
import { BackupItemActions } from "../../services/ItemActions.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import type { ActionIndex, Stopped } from "../actions/index.ts"
import { indexActions, runAction } from "../actions/index.ts"

export type BackupApplied =
  | { readonly _tag: "Keep"; readonly item: KubeObject; readonly additionalItems: ReadonlyArray<ItemReference> }
  | Stopped

export interface BackupActions {
  /** Whether any action can apply to this group-resource. */
  readonly any: (groupResource: string) => boolean
  readonly apply: (groupResource: string, object: KubeObject, backupName: string) => Effect.Effect<BackupApplied>
}

const runnerOf = (index: ActionIndex<BackupItemAction>): BackupActions => ({
  any: index.any,
  apply: (groupResource, object, backupName) => {
    const actions = index.matching(groupResource, object)
    const additional: Array<ItemReference> = []
    const step = (at: number, item: KubeObject): Effect.Effect<BackupApplied> => {
      const action = actions[at]
      if (action === undefined) return Effect.succeed({ _tag: "Keep", item, additionalItems: additional })
      return runAction(action.name, () => action.execute({ groupResource, item, backupName })).pipe(
        Effect.flatMap((result): Effect.Effect<BackupApplied> => {
          if (Either.isLeft(result)) return Effect.succeed(result.left)
          additional.push(...(result.right.additionalItems ?? []))
          return step(at + 1, result.right.item)
        })
      )
    }
    return step(0, object)
  }
})

/** The registered actions (undefined when there are none); Left: those whose selectors do not parse. */
export const backupActions = BackupItemActions.pipe(
  Effect.map((actions) => actions.length === 0 ? Either.right(undefined) : Either.map(indexActions(actions), runnerOf))
)
