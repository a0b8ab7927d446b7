// What the restore and its dry run share: discovery, validation, the plan from one pass over the
// tarball, and re-reading the tarball's entries level by level.
import { Data, Effect, Either, FiberSet, Option, Stream } from "effect"

import type { Discovery } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup } from "../api/backup.ts"
import type { Restore } from "../api/restore.ts"
import { backupKeys } from "../archive/layout.ts"
import type { ArchiveEntry } from "../archive/reader.ts"
import { readArchive } from "../archive/reader.ts"
import type { RestoreActions } from "./actions.ts"
import { restoreActions } from "./actions.ts"
import type { RestoreSelection } from "./filters.ts"
import { makeRestoreSelection } from "./filters.ts"
import { loadResourceModifiers } from "./modifiers/load.ts"
import type { ResourceModifiers } from "./modifiers/rules.ts"
import type { PlannedItem } from "./plan.ts"
import { planRestore } from "./plan.ts"
import type { RestoreContext } from "./transforms.ts"
import { validateRestore } from "./validate.ts"

/** Why a restore that passed validation could not run to the end; becomes status.failureReason. */
export class RestoreFailed extends Data.TaggedError("RestoreFailed")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

export const failedBecause = (prefix: string) => (error: { readonly message: string }) =>
  new RestoreFailed({ reason: `${prefix}: ${error.message}` })

export const contextOf = (
  restore: Restore,
  backup: Backup,
  resourceModifiers: Option.Option<ResourceModifiers> = Option.none()
): RestoreContext => ({
  restoreName: restore.metadata.name ?? "",
  backupName: backup.metadata.name ?? restore.spec.backupName ?? "",
  namespaceMapping: restore.spec.namespaceMapping ?? {},
  preserveNodePorts: restore.spec.preserveNodePorts === true,
  ...(Option.isSome(resourceModifiers) ? { resourceModifiers: resourceModifiers.value } : {})
})

/** The backup's tarball as entries, read again from storage; archive and storage errors name the entry or key. */
export const backupEntries = (backupName: string) =>
  Stream.unwrap(ObjectStore.pipe(Effect.map((store) => readArchive(store.get(backupKeys(backupName).tarball))))).pipe(
    Stream.mapError((error) =>
      error._tag === "ObjectNotFound"
        ? new RestoreFailed({ reason: `the backup's tarball ${error.key} is missing from the storage location` })
        : failedBecause("reading the backup failed")(error)
    )
  )

/**
 * 16 MiB: the entry bytes a level's pass holds between the reader and the end of their items'
 * work, whatever its concurrency: five entries at the 3 MiB limit, thousands of ordinary objects
 * (a few KiB each), so only hostile or unusually large archives wait for it. With the reader's own
 * bound (archive/reader.ts, QUEUED_BATCHES: 28 MiB) and the copies each item makes (parsed object,
 * request body), what a restore holds does not grow with the archive.
 */
export const inFlightEntryBytes = 16 * 1024 * 1024

/**
 * A level's pass: each planned item's entry through `f`, `options.concurrency` at a time, until all
 * are done; the first failure interrupts the rest. Items are looked up and claimed in archive order
 * before any work starts, so an entry that appears again (the tarball changed since the plan) is
 * never handed out twice, and `f` is called in archive order.
 *
 * `f` waits until its item may start (the restore's concurrency window) and returns the item's
 * work, which runs in a fiber of its own: measured on 20k entries, a Stream.mapEffect with
 * concurrency 16 cost ~300 µs of CPU per entry, forking costs a few. Waiting before the fork keeps
 * one waiter on the window, not one fiber per item: Effect's semaphore wakes every waiter on each
 * release, which cost ~2 ms of CPU per item with a hundred items queued behind a window of thirty.
 */
export const forEachPlannedEntry = <E, R>(
  backupName: string,
  items: ReadonlyArray<PlannedItem>,
  options: { readonly concurrency: number },
  f: (item: PlannedItem, entry: ArchiveEntry) => Effect.Effect<Effect.Effect<void, E, R>, E, R>
) =>
  Effect.scoped(Effect.gen(function*() {
    const byPath = new Map(items.map((item) => [item.path, item]))
    const budget = yield* Effect.makeSemaphore(inFlightEntryBytes)
    const slots = yield* Effect.makeSemaphore(Math.max(1, options.concurrency))
    const running = yield* FiberSet.make<void, E>()
    const cost = (entry: ArchiveEntry) => Math.min(Math.max(entry.data.length, 1), inFlightEntryBytes)
    const forkAll = backupEntries(backupName).pipe(
      Stream.runForEach((entry) => {
        const item = byPath.get(entry.path)
        if (item === undefined) return Effect.void
        byPath.delete(entry.path)
        const release = Effect.zipRight(budget.release(cost(entry)), slots.release(1))
        // Taken in archive order before the work is forked, so entries waiting for their turn count too.
        return budget.take(cost(entry)).pipe(
          Effect.zipRight(slots.take(1)),
          Effect.zipRight(f(item, entry).pipe(Effect.onError(() => release))),
          Effect.flatMap((work) => FiberSet.run(running, work.pipe(Effect.ensuring(release))))
        )
      }),
      Effect.zipRight(FiberSet.awaitEmpty(running))
    )
    // The first failed item ends the pass: `join` fails with it, and leaving the scope interrupts the rest.
    yield* Effect.raceFirst(forkAll, FiberSet.join(running))
  }))

/** Discovery, validation and the plan: what the dry run and the restore share. Left: every validation problem. */
export const prepareRestore = Effect.fn("Restore.prepare")(function*(restore: Restore, backup: Option.Option<Backup>) {
  const kube = yield* KubeClient
  const discovery = yield* kube.discover.pipe(Effect.mapError(failedBecause("discovery failed")))
  const actions = yield* restoreActions
  const modifiers = yield* loadResourceModifiers(restore.spec, restore.metadata.namespace ?? "").pipe(
    Effect.mapError(failedBecause("reading the resource modifiers failed"))
  )
  const problems = [
    ...validateRestore(restore, backup, discovery),
    ...Either.getLeft(actions).pipe(Option.getOrElse(() => [])),
    ...Either.getLeft(modifiers).pipe(Option.getOrElse(() => []))
  ]
  const selection = makeRestoreSelection(restore.spec, discovery.resources)
  const prepared: Either.Either<Prepared, ReadonlyArray<string>> =
    problems.length > 0 || Option.isNone(backup) || Either.isLeft(selection) || Either.isLeft(actions) ||
      Either.isLeft(modifiers)
      ? Either.left(problems)
      : Either.right({
        discovery,
        backup: backup.value,
        selection: selection.right,
        actions: actions.right,
        resourceModifiers: modifiers.right
      })
  return prepared
})

export interface Prepared {
  readonly discovery: Discovery
  readonly backup: Backup
  readonly selection: RestoreSelection
  readonly resourceModifiers: Option.Option<ResourceModifiers>
  /** Ark's item actions and the embedding program's. */
  readonly actions: RestoreActions
}

/** Reads the plan and checks the format version. */
export const planFromBackup = Effect.fn("Restore.planFromBackup")(
  function*(backup: Backup, selection: RestoreSelection, actions: RestoreActions) {
    const store = yield* ObjectStore
    const tarball = backupKeys(backup.metadata.name ?? "").tarball
    const present = yield* store.exists(tarball).pipe(Effect.mapError(failedBecause("storage unavailable")))
    if (!present) {
      return yield* new RestoreFailed({
        reason: `the backup's tarball ${tarball} is missing from the storage location`
      })
    }
    const plan = yield* planRestore(backupEntries(backup.metadata.name ?? ""), selection, actions)
    const major = plan.formatVersion?.split(".")[0]
    if (major !== undefined && major !== "1") {
      return yield* new RestoreFailed({
        reason: `the backup's format version ${plan.formatVersion} is not supported (expected 1.x)`
      })
    }
    return plan
  }
)
