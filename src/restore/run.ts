// A restore from validation to results (docs/design.md, "Restore semantics"): discover →
// validate → plan (one pass over the tarball) → restore level by level (one more streaming pass
// per level that has items; CRDs first, Established, rediscover) → upload log and results. Returns
// the Restore with its final status and never fails.
//
// Memory: the backup is never held whole. The plan keeps a few strings per entry; each level
// re-reads the tarball from the ObjectStore and only parses its own entries. Re-reading costs a
// gunzip per level (about ten at most) but needs no local disk, which the server's pod may not
// have, and a corrupt or hostile archive fails the plan pass before anything is created.
import type { Option } from "effect"
import { Clock, DateTime, Effect, Either, Stream } from "effect"

import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup } from "../api/backup.ts"
import { toTimestamp } from "../api/common.ts"
import type { Restore, RestoreStatus } from "../api/restore.ts"
import { gzipText } from "../archive/gzip.ts"
import { parseEntryPath, restoreKeys } from "../archive/layout.ts"
import type { BackupResults, Level, Where } from "../backup/log.ts"
import { makeBackupResults } from "../backup/log.ts"
import { readSnapshotRecords } from "../volumes/records.ts"
import type { ItemEnv, ItemOutcome } from "./item.ts"
import { restoreItem, targetName, waitEstablished } from "./item.ts"
import type { RestoreLog } from "./log.ts"
import { makeRestoreLog } from "./log.ts"
import type { ItemOutcomes, ItemResult } from "./outcomes.ts"
import { openItemOutcomes } from "./outcomes.ts"
import type { PlannedItem, RestorePlan } from "./plan.ts"
import { crdLevel, itemsToRestore, lastLevel } from "./plan.ts"
import { contextOf, failedBecause, forEachPlannedEntry, planFromBackup, prepareRestore } from "./prepare.ts"
import type { RestoreContext } from "./transforms.ts"
import type { RestoreVolumeServices } from "./volumes.ts"
import { persistentVolumeRestorer } from "./volumes.ts"
import type { ConcurrencyWindow, WindowLimits, WindowStats } from "./window.ts"
import { defaultWindowLimits, makeWindow } from "./window.ts"

export type { DryRunEntry } from "./dryRun.ts"
export { dryRunRestore } from "./dryRun.ts"
export { RestoreFailed } from "./prepare.ts"
export { validateRestore } from "./validate.ts"

export interface RestoreDeps {
  /** Called as items are restored; a controller patches status now and then. */
  readonly onProgress?: (
    progress: { readonly totalItems: number; readonly itemsRestored: number }
  ) => Effect.Effect<void>
  /**
   * Items of one priority level restored at once at most (default 128); how many are is an AIMD
   * window starting at 16 (or this, when lower) that adapts to the API server (window.ts).
   */
  readonly concurrency?: number
  readonly logLineLimit?: number
  /** Block stores for PVs restored from snapshots; the server provides them. */
  readonly volumes?: RestoreVolumeServices
}

/** What a plain client of the same API server would use at once: the bench's baseline. */
export const defaultConcurrency = defaultWindowLimits.initial

const windowLimits = (deps: RestoreDeps): WindowLimits =>
  deps.concurrency === undefined
    ? defaultWindowLimits
    : { initial: Math.min(defaultWindowLimits.initial, deps.concurrency), max: deps.concurrency }

/** What happened to the backup's items; `skipped` counts selected items that are not restored. */
export interface RestoreCounts {
  readonly created: number
  readonly unchanged: number
  readonly updated: number
  /** Existing, different, and left alone (policy none): warnings. */
  readonly differs: number
  readonly skipped: number
  readonly failed: number
}

export interface RestoreRun {
  readonly restore: Restore
  readonly counts: RestoreCounts
  /** Where the concurrency window ended: what the API server let the restore run at. Unset when nothing ran. */
  readonly window?: WindowStats
}

const timestamp = (millis: number) => toTimestamp(DateTime.unsafeMake(millis))

const withStatus = (restore: Restore, status: RestoreStatus): Restore => ({
  ...restore,
  status: { ...restore.status, ...status }
})

interface RunState {
  readonly counts: { -readonly [K in keyof RestoreCounts]: number }
  readonly window: ConcurrencyWindow
  readonly windowLimits: WindowLimits
  readonly log: RestoreLog
  readonly results: BackupResults
  readonly outcomes: ItemOutcomes
  totalItems: number
  itemsRestored: number
}

const whereOf = (context: RestoreContext, item: PlannedItem): Where => {
  const target = targetName(context, item)
  return target.namespace === undefined
    ? { resource: item.groupResource, name: target.name }
    : { resource: item.groupResource, namespace: target.namespace, name: target.name }
}

/** Why an existing object that differs is left alone, in the outcomes. */
export const differsReason = "exists and differs from the backup, left as is (existing-resource-policy none)"

/** The outcome's line in the items file and the log; counts and results are tallied as it is read. */
const describeOutcome = (
  state: RunState,
  where: Where,
  outcome: ItemOutcome
): { readonly result: ItemResult; readonly level: Level; readonly message: string } => {
  switch (outcome._tag) {
    case "Created":
      state.counts.created += 1
      return {
        result: { outcome: "created", ...where },
        level: "info",
        message: outcome.note === undefined ? "restored" : `restored; ${outcome.note}`
      }
    case "Skipped":
      state.counts.skipped += 1
      return {
        result: { outcome: "skipped", ...where, reason: outcome.reason },
        level: "info",
        message: `skipped: ${outcome.reason}`
      }
    case "Unchanged":
      state.counts.unchanged += 1
      return {
        result: { outcome: "unchanged", ...where },
        level: "info",
        message: "already exists and matches the backup"
      }
    case "Updated":
      state.counts.updated += 1
      return {
        result: { outcome: "updated", ...where, reason: outcome.diff.join("; ") },
        level: "info",
        message: `existed and differed; updated to the backup's state (${outcome.diff.join("; ")})`
      }
    case "Differs": {
      state.counts.differs += 1
      const message = `exists and differs from the backup; left as is (existingResourcePolicy none): ${
        outcome.diff.join("; ")
      }`
      state.results.add("warnings", message, where)
      // Skipped, in the outcomes: the item is left as the cluster has it.
      return {
        result: { outcome: "skipped", ...where, reason: `${differsReason}: ${outcome.diff.join("; ")}` },
        level: "warning",
        message
      }
    }
    case "Failed":
      state.counts.failed += 1
      state.results.add("errors", outcome.message, where)
      return {
        result: { outcome: "failed", ...where, reason: outcome.message },
        level: "error",
        message: outcome.message
      }
  }
}

/** Tallies an item's outcome; one short chain, not a generator: it runs once per restored object. */
const recordOutcome = (
  state: RunState,
  context: RestoreContext,
  deps: RestoreDeps,
  item: PlannedItem,
  outcome: ItemOutcome
) => {
  const where = whereOf(context, item)
  const { level, message, result } = describeOutcome(state, where, outcome)
  const counted = state.outcomes.record(result).pipe(
    Effect.zipRight(state.log.write(level, message, where)),
    Effect.zipRight(Effect.sync(() => void (state.itemsRestored += 1)))
  )
  const onProgress = deps.onProgress
  return onProgress === undefined ? counted : Effect.zipRight(
    counted,
    Effect.suspend(() => onProgress({ totalItems: state.totalItems, itemsRestored: state.itemsRestored }))
  )
}

/** One level: a streaming pass over the tarball restoring that level's entries, as many at once as the window allows. */
const restoreLevel = (
  env: ItemEnv,
  state: RunState,
  deps: RestoreDeps,
  backupName: string,
  items: ReadonlyArray<PlannedItem>
) =>
  Effect.gen(function*() {
    const existing: Array<PlannedItem> = []
    yield* forEachPlannedEntry(backupName, items, { concurrency: state.windowLimits.max }, (item, entry) =>
      state.window.admit(restoreItem(env, item, entry)).pipe(
        Effect.map((restoring) =>
          Effect.flatMap(restoring, (outcome) => {
            if (outcome._tag !== "Failed") {
              existing.push(item)
            }
            return recordOutcome(state, env.context, deps, item, outcome)
          })
        )
      ))
    return existing
  }).pipe(Effect.withSpan("Restore.level", { attributes: { items: items.length } }))

/** After the CRDs: wait until each is Established, then rediscover so custom resources resolve. */
const settleCrds = Effect.fn("Restore.settleCrds")(
  function*(env: ItemEnv, state: RunState, crds: ReadonlyArray<PlannedItem>) {
    const kube = yield* KubeClient
    yield* Effect.forEach(crds, (crd) =>
      waitEstablished(crd.name).pipe(
        Effect.catchAll((error) =>
          Effect.gen(function*() {
            const message = `not usable: ${error.message}`
            state.results.add("errors", message, { resource: crd.groupResource, name: crd.name })
            yield* state.log.write("error", message, { resource: crd.groupResource, name: crd.name })
          })
        )
      ), { concurrency: 8, discard: true })
    env.discovery.current = yield* kube.discover.pipe(
      Effect.mapError(failedBecause("rediscovery after restoring the CRDs failed"))
    )
  }
)

const logPlan = Effect.fn("Restore.logPlan")(function*(state: RunState, context: RestoreContext, plan: RestorePlan) {
  for (const invalid of plan.invalid) {
    const location = parseEntryPath(invalid.path)
    const where: Where = Either.isRight(location) && location.right._tag === "Resource"
      ? {
        resource: location.right.groupResource,
        ...(location.right.namespace === undefined ? {} : { namespace: location.right.namespace }),
        name: location.right.name
      }
      : {}
    state.counts.failed += 1
    yield* state.outcomes.record({ outcome: "failed", ...where, reason: `cannot be restored: ${invalid.reason}` })
    state.results.add("errors", `cannot be restored: ${invalid.reason}`, where)
    yield* state.log.write("error", `entry ${invalid.path} cannot be restored: ${invalid.reason}`, where)
  }
  for (const item of plan.items) {
    if (!item.selected || item.skip === undefined) continue
    state.counts.skipped += 1
    yield* state.outcomes.record({ outcome: "skipped", ...whereOf(context, item), reason: item.skip })
    yield* state.log.write("info", `skipped: ${item.skip}`, whereOf(context, item))
  }
})

/** Every level in order; fails only when the archive or discovery does. */
const restoreAll = Effect.fn("Restore.restoreAll")(function*(
  env: ItemEnv,
  state: RunState,
  deps: RestoreDeps,
  backupName: string,
  levels: ReadonlyMap<number, ReadonlyArray<PlannedItem>>
) {
  for (let level = crdLevel; level <= lastLevel; level++) {
    const items = levels.get(level)
    if (items === undefined || items.length === 0) continue
    const restored = yield* restoreLevel(env, state, deps, backupName, items)
    if (level === crdLevel) yield* settleCrds(env, state, restored)
  }
})

/** Uploads the log and results; a failure here is reported in the returned status, not thrown. */
const uploadResults = Effect.fn("Restore.uploadResults")(function*(name: string, state: RunState) {
  const store = yield* ObjectStore
  const keys = restoreKeys(name)
  yield* store.put(keys.results, gzipText(Stream.make(JSON.stringify(state.results.toJson()))))
  const lines = yield* state.log.lines
  yield* store.put(keys.logs, gzipText(Stream.fromIterable(lines.map((line) => `${line}\n`))))
})

/** Runs the restore and reports what happened to each item as counts. */
export const executeRestore = Effect.fn("Restore.run")(
  function*(restore: Restore, backup: Option.Option<Backup>, deps: RestoreDeps = {}) {
    const name = restore.metadata.name ?? ""
    const startMillis = yield* Clock.currentTimeMillis
    const started: RestoreStatus = { startTimestamp: timestamp(startMillis) }
    const noCounts: RestoreCounts = { created: 0, unchanged: 0, updated: 0, differs: 0, skipped: 0, failed: 0 }
    const prepared = yield* prepareRestore(restore, backup).pipe(Effect.either)
    if (Either.isLeft(prepared)) {
      const now = yield* Clock.currentTimeMillis
      return {
        restore: withStatus(restore, {
          ...started,
          phase: "Failed",
          failureReason: prepared.left.reason,
          completionTimestamp: timestamp(now)
        }),
        counts: noCounts
      } satisfies RestoreRun
    }
    if (Either.isLeft(prepared.right)) {
      return {
        restore: withStatus(restore, { phase: "FailedValidation", validationErrors: prepared.right.left }),
        counts: noCounts
      } satisfies RestoreRun
    }
    const { actions, discovery, resourceModifiers, selection } = prepared.right.right
    const backupValue = prepared.right.right.backup
    const backupName = backupValue.metadata.name ?? ""
    const context = contextOf(restore, backupValue, resourceModifiers)
    const log = yield* makeRestoreLog(name, deps.logLineLimit)
    yield* log.write("info", `restore ${name} of backup ${backupName} started`)

    const env: ItemEnv = {
      context,
      actions,
      policy: restore.spec.existingResourcePolicy,
      discovery: { current: discovery },
      namespaces: new Set()
    }
    const limits = windowLimits(deps)
    const state: RunState = {
      counts: { ...noCounts },
      window: yield* makeWindow(limits),
      windowLimits: limits,
      log,
      results: makeBackupResults(),
      outcomes: yield* openItemOutcomes(restoreKeys(name).items),
      totalItems: 0,
      itemsRestored: 0
    }
    const outcome = yield* Effect.gen(function*() {
      const records = yield* readSnapshotRecords(backupName).pipe(
        Effect.mapError(failedBecause("reading the backup's volume snapshot records failed"))
      )
      const withVolumes: ItemEnv = records.length === 0 ? env : {
        ...env,
        persistentVolumes: persistentVolumeRestorer(
          records,
          restore.spec.restorePVs,
          deps.volumes,
          restore.metadata.namespace ?? ""
        )
      }
      const plan = yield* planFromBackup(backupValue, selection, actions)
      const levels = itemsToRestore(plan)
      let totalItems = 0
      for (const items of levels.values()) totalItems += items.length
      state.totalItems = totalItems
      yield* logPlan(state, context, plan)
      yield* log.write("info", `${totalItems} items to restore, ${state.counts.skipped} skipped`)
      if (deps.onProgress !== undefined) yield* deps.onProgress({ totalItems, itemsRestored: 0 })
      yield* restoreAll(withVolumes, state, deps, backupName, levels)
    }).pipe(Effect.either)

    const failureReason = Either.isLeft(outcome) ? outcome.left.reason : undefined
    if (failureReason !== undefined) yield* log.write("error", `restore failed: ${failureReason}`)
    const { warnings, errors } = state.results.counts()
    const phase = failureReason !== undefined ? "Failed" : errors > 0 ? "PartiallyFailed" : "Completed"
    const { created, unchanged, updated, differs, skipped, failed } = state.counts
    yield* log.write(
      "info",
      // Counted as the status counts them: an existing object left as it differs is a skip there too.
      `restore ${name} ${phase}: ${created} created, ${updated} updated, ${unchanged} unchanged, ${
        skipped + differs
      } skipped${differs === 0 ? "" : ` (${differs} existing and different, left as is)`}, ${failed} failed`
    )
    const window = yield* state.window.stats
    yield* log.write(
      "info",
      `concurrency settled at ${window.size} items at once (peak ${window.peak}, at most ${limits.max}; ${window.throttled} requests throttled by the API server)`
    )
    const itemsStored = yield* state.outcomes.close.pipe(Effect.either)
    if (Either.isLeft(itemsStored)) {
      yield* log.write(
        "warning",
        `the list of items and their outcomes could not be stored: ${itemsStored.left.message}`
      )
    }
    const uploaded = yield* uploadResults(name, state).pipe(Effect.either)
    const completedMillis = yield* Clock.currentTimeMillis
    const final = withStatus(restore, {
      ...started,
      phase,
      completionTimestamp: timestamp(completedMillis),
      progress: { totalItems: state.totalItems, itemsRestored: state.itemsRestored },
      outcomes: state.outcomes.summary(),
      // The restore itself is done; a log that could not be stored is one more warning.
      warnings: warnings + (Either.isLeft(uploaded) ? 1 : 0) + (Either.isLeft(itemsStored) ? 1 : 0),
      errors,
      ...(failureReason === undefined ? {} : { failureReason })
    })
    return { restore: final, counts: { ...state.counts }, window } satisfies RestoreRun
  }
)

/** Runs the restore to its final status: Completed, PartiallyFailed, Failed or FailedValidation. */
export const runRestore = (restore: Restore, backup: Option.Option<Backup>, deps: RestoreDeps = {}) =>
  executeRestore(restore, backup, deps).pipe(Effect.map((run) => run.restore))
