// Which resources a `get` or `delete` acts on, as kubectl and Velero take them: names, or
// `-l SELECTOR`, or (delete) `--all`. A `get` with none of them lists every one.
import { Args, Options } from "@effect/cli"
import { Console, Effect, Either, Option } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { matchesLabels, parseLabelSelector } from "../kube/labelSelector.ts"
import { CliError } from "./errors.ts"

export interface Selection {
  readonly names: ReadonlyArray<string>
  readonly selector: Option.Option<string>
  readonly all?: boolean
}

export const namesArg = (what: string) =>
  Args.text({ name: "NAME" }).pipe(Args.withDescription(`the ${what}'s name; several may be given`), Args.repeated)

export const selectorFlag = Options.text("selector").pipe(
  Options.withAlias("l"),
  Options.withDescription("only those whose labels match this selector, e.g. app=web,tier!=cache"),
  Options.optional
)

export const allFlag = Options.boolean("all").pipe(Options.withDescription("every one in the namespace"))

/**
 * The resources a selection names, in order: each name read (a missing one is its own error), or
 * the listed ones its selector matches, or all. `required` refuses an empty selection (delete).
 */
export const selectedResources = <A extends { readonly raw: KubeObject }, R>(
  what: string,
  selection: Selection,
  resources: {
    readonly get: (name: string) => Effect.Effect<A, CliError, R>
    readonly list: Effect.Effect<ReadonlyArray<A>, CliError, R>
  },
  required = false
): Effect.Effect<ReadonlyArray<A>, CliError, R> =>
  Effect.gen(function*() {
    const ways = [selection.names.length > 0, Option.isSome(selection.selector), selection.all === true]
    if (ways.filter(Boolean).length > 1) {
      return yield* new CliError({
        message: `give ${what} names, -l SELECTOR${selection.all === undefined ? "" : " or --all"}: only one of them`,
        hint: `for example: ark ${what} ${required ? "delete" : "get"} -l app=web`
      })
    }
    if (required && !ways.some(Boolean)) {
      return yield* new CliError({
        message: `which ${what}s? give their names, -l SELECTOR or --all`,
        hint: `for example: ark ${what} delete NAME, or ark ${what} delete --all`
      })
    }
    if (selection.names.length > 0) return yield* Effect.forEach(selection.names, (name) => resources.get(name))
    const all = yield* resources.list
    if (Option.isNone(selection.selector)) return all
    const selector = parseLabelSelector(selection.selector.value)
    if (Either.isLeft(selector)) {
      return yield* new CliError({
        message: `-l ${selection.selector.value}: ${selector.left.message}`,
        hint: "a label selector such as app=web,tier!=cache or 'env in (prod,staging)'"
      })
    }
    return all.filter(({ raw }) => matchesLabels(selector.right, raw.metadata.labels))
  })

/** The flags of a `delete` that takes a selection. */
export interface DeleteSelectionArgs extends Selection {
  readonly namespace: string
  readonly confirm: boolean
}

/** A `delete` of a selection: `deleteOne` for each selected name, one after another. */
export const deleteSelected = <A extends { readonly raw: KubeObject }, R, E, R2>(
  what: string,
  args: DeleteSelectionArgs,
  resources: Parameters<typeof selectedResources<A, R>>[2],
  deleteOne: (
    args: { readonly name: string; readonly namespace: string; readonly confirm: boolean }
  ) => Effect.Effect<void, E, R2>
) =>
  Effect.gen(function*() {
    const selected = yield* selectedResources(what, args, resources, true)
    if (selected.length === 0) return yield* Console.log(`No ${what}s match: nothing was deleted.`)
    for (const { raw } of selected) {
      yield* deleteOne({ name: raw.metadata.name ?? "", namespace: args.namespace, confirm: args.confirm })
    }
  })
