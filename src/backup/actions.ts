// The embedding program's backup item actions (services/ItemActions.ts), run on each selected
// object before it is written. Ark itself writes objects as listed, so with none registered the
// backup never calls this.
import { Effect, Either } from "effect"

import type { BackupItemAction, ItemReference } from "../../services/ItemActions.ts"
import { BackupItemActions, ItemActionError } from "../../services/ItemActions.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import type { ActionIndex } from "../actions/index.ts"
import { indexActions } from "../actions/index.ts"

export type BackupApplied =
  | { readonly _tag: "Keep"; readonly item: KubeObject; readonly additionalItems: ReadonlyArray<ItemReference> }
  | { readonly _tag: "Skipped"; readonly reason: string }
  | { readonly _tag: "Failed"; readonly message: string }

export interface BackupActions {
  /** Whether any action can apply to this group-resource. */
  readonly any: (groupResource: string) => boolean
  readonly apply: (groupResource: string, object: KubeObject, backupName: string) => Effect.Effect<BackupApplied>
}

const failure = (error: unknown) =>
  error instanceof ItemActionError ? error.message : error instanceof Error ? error.message : String(error)

const runnerOf = (index: ActionIndex<BackupItemAction>): BackupActions => ({
  any: index.any,
  apply: (groupResource, object, backupName) => {
    const actions = index.matching(groupResource, object)
    const additional: Array<ItemReference> = []
    const step = (at: number, item: KubeObject): Effect.Effect<BackupApplied> => {
      const action = actions[at]
      if (action === undefined) return Effect.succeed({ _tag: "Keep", item, additionalItems: additional })
      // An action is the embedding program's code: a throw or a defect fails this item only.
      return Effect.suspend(() => action.execute({ groupResource, item, backupName })).pipe(
        Effect.either,
        Effect.catchAllDefect((defect) => Effect.succeed(Either.left(defect))),
        Effect.flatMap((result): Effect.Effect<BackupApplied> => {
          if (Either.isLeft(result)) {
            return Effect.succeed({
              _tag: "Failed",
              message: `item action ${action.name} failed: ${failure(result.left)}`
            })
          }
          if (result.right._tag === "Skip") {
            return Effect.succeed({ _tag: "Skipped", reason: `skipped by ${action.name}: ${result.right.reason}` })
          }
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
