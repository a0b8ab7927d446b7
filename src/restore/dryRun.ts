// `ark restore create --dry-run`: for every object the filters select, what the restore would do
// with it — create, leave alone (exists, identical), conflict (exists, differs; with a short diff)
// or skip (with why). Reads only: discovery and gets, never a write.
import { Effect, Either, Option, Order } from "effect"

import type { Discovery, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { Backup } from "../api/backup.ts"
import type { Restore } from "../api/restore.ts"
import { parseEntryPath } from "../archive/layout.ts"
import type { ArchiveEntry } from "../archive/reader.ts"
import type { RestoreActions } from "./actions.ts"
import { diffLines } from "./compare.ts"
import { parseEntryObject, resolveTarget, targetName } from "./item.ts"
import type { PlannedItem } from "./plan.ts"
import { crdLevel, itemsToRestore, lastLevel } from "./plan.ts"
import type { Prepared } from "./prepare.ts"
import {
  contextOf,
  failedBecause,
  forEachPlannedEntry,
  planFromBackup,
  prepareRestore,
  RestoreFailed
} from "./prepare.ts"
import type { RestoreContext } from "./transforms.ts"
import { comparable } from "./transforms.ts"

/** What a restore would do, writing nothing: one entry per object in the backup that the filters select. */
export interface DryRunEntry {
  /** group-resource, e.g. "deployments.apps" */
  readonly resource: string
  /** The TARGET namespace (after mapping). */
  readonly namespace?: string
  readonly name: string
  readonly action: "create" | "unchanged" | "conflict" | "skip"
  /** For skip (e.g. "owned by a restored Deployment: web") and conflict. */
  readonly reason?: string
  /** For conflict: short lines like "spec.replicas: 3 → 2". */
  readonly diff?: ReadonlyArray<string>
  /** What the Restore's resource modifiers change in the object, in the same form. */
  readonly modified?: ReadonlyArray<string>
}

interface PreviewEnv {
  readonly context: RestoreContext
  readonly actions: RestoreActions
  readonly discovery: Discovery
  readonly policy: Restore["spec"]["existingResourcePolicy"]
  /** Group-resources whose CRD the restore creates first. */
  readonly definedByBackup: ReadonlySet<string>
}

const entryFor = (
  context: RestoreContext,
  item: PlannedItem,
  fields: Pick<DryRunEntry, "action" | "reason" | "diff" | "modified">
): DryRunEntry => {
  const target = targetName(context, item)
  return {
    resource: item.groupResource,
    ...(target.namespace === undefined ? {} : { namespace: target.namespace }),
    name: target.name,
    ...fields
  }
}

/** The resource modifiers' changes: the object restored without them against the one with them. */
const modifications = (env: PreviewEnv, item: PlannedItem, backedUp: KubeObject, desired: KubeObject) => {
  if (env.context.resourceModifiers === undefined) return Effect.succeed({})
  const { resourceModifiers: _modifiers, ...plain } = env.context
  return env.actions.apply(item.groupResource, backedUp, plain).pipe(Effect.map((unmodified) => {
    const lines = unmodified._tag === "Restore" ? diffLines(unmodified.item, desired, 20) : []
    return lines.length === 0 ? {} : { modified: lines }
  }))
}

/** What restoring this item would do against the cluster as it is now. */
const previewItem = Effect.fn("Restore.previewItem")(
  function*(env: PreviewEnv, item: PlannedItem, entry: ArchiveEntry) {
    const kube = yield* KubeClient
    const object = parseEntryObject(entry)
    if (Either.isLeft(object)) {
      return entryFor(env.context, item, { action: "skip", reason: `cannot be restored: ${object.left}` })
    }
    const target = resolveTarget(env.discovery, env.context, item, object.right)
    if (Either.isLeft(target)) {
      return env.definedByBackup.has(item.groupResource)
        ? entryFor(env.context, item, { action: "create", reason: "its CustomResourceDefinition is restored first" })
        : entryFor(env.context, item, { action: "skip", reason: `cannot be restored: ${target.left}` })
    }
    const live = yield* kube.get(target.right.gvr, target.right.name, target.right.namespace).pipe(
      Effect.map((object) => Option.some(object)),
      Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none())),
      Effect.mapError(failedBecause(`reading ${item.groupResource} ${target.right.name} failed`))
    )
    const applied = yield* env.actions.apply(item.groupResource, object.right, env.context)
    if (applied._tag === "Skipped") return entryFor(env.context, item, { action: "skip", reason: applied.reason })
    if (applied._tag === "Failed") {
      return entryFor(env.context, item, { action: "skip", reason: `cannot be restored: ${applied.message}` })
    }
    const desired = applied.item
    const modified = yield* modifications(env, item, object.right, desired)
    if (Option.isNone(live)) return entryFor(env.context, item, { action: "create", ...modified })
    const diff = diffLines(
      comparable(item.groupResource, live.value, env.context),
      comparable(item.groupResource, desired, env.context)
    )
    if (diff.length === 0) return entryFor(env.context, item, { action: "unchanged", ...modified })
    const reason = env.policy === "update"
      ? "exists and differs: would be updated to the backup's state"
      : "exists and differs: would be left as is (existingResourcePolicy none)"
    return entryFor(env.context, item, { action: "conflict", reason, diff, ...modified })
  }
)

const byTarget = Order.combineAll<DryRunEntry>([
  Order.mapInput(Order.string, (entry) => entry.resource),
  Order.mapInput(Order.string, (entry) => entry.namespace ?? ""),
  Order.mapInput(Order.string, (entry) => entry.name)
])

const preview = Effect.fn("Restore.preview")(function*(restore: Restore, prepared: Prepared) {
  const context = contextOf(restore, prepared.backup, prepared.resourceModifiers)
  const plan = yield* planFromBackup(prepared.backup, prepared.selection, prepared.actions)
  const levels = itemsToRestore(plan)
  const definedByBackup = new Set((levels.get(crdLevel) ?? []).map((crd) => crd.name))
  const env: PreviewEnv = {
    context,
    actions: prepared.actions,
    discovery: prepared.discovery,
    policy: restore.spec.existingResourcePolicy,
    definedByBackup
  }
  const entries: Array<DryRunEntry> = []
  for (const item of plan.items) {
    if (item.selected && item.skip !== undefined) {
      entries.push(entryFor(context, item, { action: "skip", reason: item.skip }))
    }
  }
  for (const invalid of plan.invalid) {
    const location = parseEntryPath(invalid.path)
    if (Either.isRight(location) && location.right._tag === "Resource") {
      const { groupResource, namespace, name } = location.right
      entries.push({
        resource: groupResource,
        ...(namespace === undefined ? {} : { namespace }),
        name,
        action: "skip",
        reason: `cannot be restored: ${invalid.reason}`
      })
    }
  }
  const planned: Array<DryRunEntry> = []
  for (let level = crdLevel; level <= lastLevel; level++) {
    const items = levels.get(level)
    if (items === undefined) continue
    // `f` is called in archive order: each preview takes the next place, whenever it finishes.
    const previewed: Array<DryRunEntry> = []
    yield* forEachPlannedEntry(prepared.backup.metadata.name ?? "", items, { concurrency: 16 }, (item, entry) => {
      const place = previewed.length
      previewed.length += 1
      return Effect.succeed(
        previewItem(env, item, entry).pipe(Effect.map((preview) => void (previewed[place] = preview)))
      )
    })
    planned.push(...previewed)
  }
  return [...planned, ...entries.sort(byTarget)]
})

/** Lists what `runRestore` would do; fails when the restore is invalid or the backup unreadable. */
export const dryRunRestore = Effect.fn("Restore.dryRun")(function*(restore: Restore, backup: Backup) {
  const prepared = yield* prepareRestore(restore, Option.some(backup))
  if (Either.isLeft(prepared)) {
    return yield* new RestoreFailed({ reason: `invalid restore: ${prepared.left.join("; ")}` })
  }
  return yield* preview(restore, prepared.right)
})
