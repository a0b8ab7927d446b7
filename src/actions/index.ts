// Item actions indexed for the per-item lookup: each action's selector is parsed once, when the
// run starts (a bad label selector fails the run there, naming the action), and the actions that
// can apply to a group-resource are found with one map read.
import { Effect, Either } from "effect"

import type { ItemSelector } from "../../services/ItemActions.ts"
import { ItemActionError } from "../../services/ItemActions.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import type { Selector } from "../kube/labelSelector.ts"
import { matchesLabels, parseLabelSelector } from "../kube/labelSelector.ts"

interface Matcher<A> {
  readonly action: A
  readonly namespaces: ReadonlySet<string> | undefined
  readonly selector: Selector | undefined
}

export interface ActionIndex<A> {
  /** The actions for an object of this group-resource, in registration order. */
  readonly matching: (groupResource: string, object: KubeObject) => ReadonlyArray<A>
  /** Whether any action names this group-resource or all of them. */
  readonly any: (groupResource: string) => boolean
}

const isAll = (resources: ReadonlyArray<string> | undefined) => resources === undefined || resources.includes("*")

/** The index, or one message per action whose selector does not parse. */
export const indexActions = <A extends { readonly name: string; readonly appliesTo: ItemSelector }>(
  actions: ReadonlyArray<A>
): Either.Either<ActionIndex<A>, ReadonlyArray<string>> => {
  const problems: Array<string> = []
  const matchers = actions.map((action): Matcher<A> => {
    const { labelSelector, namespaces } = action.appliesTo
    const parsed = labelSelector === undefined ? undefined : parseLabelSelector(labelSelector)
    if (parsed !== undefined && Either.isLeft(parsed)) {
      problems.push(`item action ${action.name}: labelSelector: ${parsed.left.message}`)
    }
    return {
      action,
      namespaces: namespaces === undefined ? undefined : new Set(namespaces),
      selector: parsed === undefined || Either.isLeft(parsed) ? undefined : parsed.right
    }
  })
  if (problems.length > 0) return Either.left(problems)
  const byResource = new Map<string, ReadonlyArray<Matcher<A>>>()
  const forResource = (groupResource: string) => {
    let found = byResource.get(groupResource)
    if (found === undefined) {
      found = matchers.filter((m) =>
        isAll(m.action.appliesTo.resources) || m.action.appliesTo.resources!.includes(groupResource)
      )
      byResource.set(groupResource, found)
    }
    return found
  }
  const applies = (matcher: Matcher<A>, object: KubeObject) =>
    (matcher.namespaces === undefined || matcher.namespaces.has(object.metadata.namespace ?? "")) &&
    (matcher.selector === undefined || matchesLabels(matcher.selector, object.metadata.labels))
  return Either.right({
    matching: (groupResource, object) => {
      const candidates = forResource(groupResource)
      if (candidates.length === 0) return []
      const found: Array<A> = []
      for (const matcher of candidates) if (applies(matcher, object)) found.push(matcher.action)
      return found
    },
    any: (groupResource) => forResource(groupResource).length > 0
  })
}

/** Why an item's actions stopped it: one skipped it, or one failed. */
export type Stopped =
  | { readonly _tag: "Skipped"; readonly reason: string }
  | { readonly _tag: "Failed"; readonly message: string }

const failure = (error: unknown) =>
  error instanceof ItemActionError ? error.message : error instanceof Error ? error.message : String(error)

/**
 * One action on one item. An action is the embedding program's code: its failure, a throw or a
 * defect fails this item only, with the action's name; its Skip is a reason naming it too.
 */
export const runAction = <A extends { readonly _tag: string }>(
  name: string,
  execute: () => Effect.Effect<A | { readonly _tag: "Skip"; readonly reason: string }, ItemActionError>
): Effect.Effect<Either.Either<A, Stopped>> =>
  Effect.suspend(execute).pipe(
    Effect.either,
    Effect.catchAllDefect((defect) => Effect.succeed(Either.left(defect))),
    Effect.map((result): Either.Either<A, Stopped> =>
      Either.isLeft(result)
        ? Either.left({ _tag: "Failed", message: `item action ${name} failed: ${failure(result.left)}` })
        : result.right._tag === "Skip"
        ? Either.left({ _tag: "Skipped", reason: `skipped by ${name}: ${(result.right as { reason: string }).reason}` })
        : Either.right(result.right as A)
    )
  )
