// One attempt at the tarball: read the cut, select, stream into tar.gz, upload while listing.
// Selected pods, PVCs and PVs are noted in the attempt's volume inventory as they pass; hooks and
// snapshots run from it once the tarball is written (backup/volumes.ts).
import { Chunk, Effect, Either, Stream } from "effect"

import type { ApiResource, KubeError, KubeGone, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { groupResource, resourceEntryPath } from "../archive/layout.ts"
import type { ArchiveItem } from "../archive/writer.ts"
import { writeArchive } from "../archive/writer.ts"
import type { VolumeInventory } from "../volumes/inventory.ts"
import { makeInventory, recordItem } from "../volumes/inventory.ts"
import type { BackupActions } from "./actions.ts"
import type { Consistency } from "./cut.ts"
import { currentRevision, readAtRevision } from "./cut.ts"
import type { BackupLog, BackupResults } from "./log.ts"
import { makeBackupResults } from "./log.ts"
import { orderKey } from "./order.ts"
import { concatReadAhead } from "./readAhead.ts"
import type { Filters, ListTarget, Related } from "./select.ts"
import { includeObject, makeRelated, recordIncluded } from "./select.ts"

/** `totalItems` is unset while lists are still being read: the total is known only at their end. */
export interface BackupProgress {
  readonly totalItems?: number
  readonly itemsBackedUp: number
}

export interface WriteContext {
  readonly tarballKey: string
  readonly backupName: string
  readonly targets: ReadonlyArray<ListTarget>
  /** orderedResources by group-resource: these objects are written first, in this order, within their resource. */
  readonly orders?: ReadonlyMap<string, ReadonlyArray<string>>
  readonly filters: Filters
  readonly pageSize: number
  /** Stamped on every tar entry. */
  readonly startMillis: number
  readonly log: BackupLog
  /** Warnings that hold for every attempt (discovery's unavailable groups). */
  readonly warnings: ReadonlyArray<string>
  readonly onProgress: (progress: BackupProgress) => Effect.Effect<void>
  /** Set when the volume step runs: which pods have hooks (pods with neither hooks nor claims are not kept). */
  readonly collectVolumes?: { readonly hasHooks: (pod: KubeObject) => boolean }
  /** The embedding program's item actions, when it registered any. */
  readonly actions: BackupActions | undefined
}

/** What one complete attempt wrote. */
export interface Attempt {
  readonly revision: string
  readonly consistency: Consistency
  readonly itemsBackedUp: number
  /** `<apiVersion>/<Kind>` → `ns/name` or `name`, in the order written. */
  readonly resourceList: ReadonlyMap<string, ReadonlyArray<string>>
  readonly results: BackupResults
  /** The pods, claims and PVs the volume step works from. */
  readonly inventory: VolumeInventory
}

/** An object chosen for the backup, with the resource it was listed as. */
export interface SelectedItem {
  readonly resource: ApiResource
  readonly object: KubeObject
}

interface AttemptState {
  consistency: Consistency
  itemsBackedUp: number
  readonly related: Related
  readonly resourceList: Map<string, Array<string>>
  readonly results: BackupResults
  readonly inventory: VolumeInventory
  /** Entry paths written so far, kept only with item actions: an additional item is written once. */
  readonly written: Set<string> | undefined
}

const entryPath = (item: SelectedItem) =>
  resourceEntryPath(
    groupResource(item.resource),
    item.resource.namespaced ? item.object.metadata.namespace : undefined,
    item.object.metadata.name ?? ""
  )

export const toArchiveItem = (item: SelectedItem): ArchiveItem => ({
  path: entryPath(item),
  data: JSON.stringify(item.object)
})

const listEntry = (state: AttemptState, item: SelectedItem) => {
  const key = `${item.object.apiVersion}/${item.object.kind}`
  const name = item.object.metadata.name ?? ""
  const entry = item.resource.namespaced ? `${item.object.metadata.namespace ?? ""}/${name}` : name
  const list = state.resourceList.get(key)
  if (list === undefined) state.resourceList.set(key, [entry])
  else list.push(entry)
}

/** Notes a chosen item in the attempt's records and the page's output. */
const keep = (context: WriteContext, state: AttemptState, selected: Array<SelectedItem>, item: SelectedItem) => {
  recordIncluded(state.related, item.resource, item.object)
  if (context.collectVolumes !== undefined) {
    recordItem(state.inventory, item.resource, item.object, context.collectVolumes.hasHooks)
  }
  listEntry(state, item)
  selected.push(item)
}

/**
 * Runs the item actions on a chosen object, then fetches the additional items they name (once
 * each, through their own actions); skips and failures are the backup's log lines and errors.
 */
const throughActions = (
  context: WriteContext,
  actions: BackupActions,
  state: AttemptState,
  selected: Array<SelectedItem>,
  first: SelectedItem
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const pending: Array<SelectedItem> = [first]
    for (let item = pending.shift(); item !== undefined; item = pending.shift()) {
      const resource = groupResource(item.resource)
      const where = {
        resource,
        ...(item.object.metadata.namespace ? { namespace: item.object.metadata.namespace } : {})
      }
      const path = entryPath(item)
      if (state.written?.has(path)) continue
      const applied = yield* actions.apply(resource, item.object, context.backupName)
      if (applied._tag === "Skipped") {
        yield* context.log.write("info", `${item.object.metadata.name}: ${applied.reason}`, where)
        continue
      }
      if (applied._tag === "Failed") {
        state.results.add("errors", applied.message, where)
        yield* context.log.write("error", `${item.object.metadata.name}: ${applied.message}`, where)
        continue
      }
      state.written?.add(path)
      keep(context, state, selected, { resource: item.resource, object: applied.item })
      for (const reference of applied.additionalItems) {
        const target = context.targets.find((t) => groupResource(t.resource) === reference.groupResource)
        const named = `${reference.groupResource} ${
          reference.namespace ? `${reference.namespace}/` : ""
        }${reference.name}`
        const fetched = target === undefined
          ? undefined
          : yield* kube.get(target.resource, reference.name, reference.namespace).pipe(Effect.either)
        if (fetched !== undefined && Either.isRight(fetched)) {
          pending.push({ resource: target!.resource, object: fetched.right })
          continue
        }
        const why = fetched === undefined ? "its resource is not in this backup" : fetched.left.message
        const warning = `additional item ${named} from ${item.object.metadata.name} not backed up: ${why}`
        state.results.add("warnings", warning, where)
        yield* context.log.write("warning", warning, where)
      }
    }
  })

/** Keeps what the filters select from one page; items that cannot be stored are errors, not failures. */
const selectPage = (context: WriteContext, state: AttemptState, target: ListTarget, objects: Chunk.Chunk<KubeObject>) =>
  Effect.gen(function*() {
    const resource = groupResource(target.resource)
    const actions = context.actions !== undefined && context.actions.any(resource) ? context.actions : undefined
    const selected: Array<SelectedItem> = []
    for (const object of objects) {
      if (!includeObject(context.filters, state.related, target.resource, object)) continue
      const name = object.metadata.name ?? ""
      const namespace = object.metadata.namespace ?? ""
      if (name === "" || (target.resource.namespaced && namespace === "")) {
        const message = "listed without a name or namespace; not backed up"
        state.results.add("errors", message, { resource })
        yield* context.log.write("error", message, { resource })
        continue
      }
      const item = { resource: target.resource, object }
      if (actions !== undefined) yield* throughActions(context, actions, state, selected, item)
      else if (state.written === undefined) keep(context, state, selected, item)
      else if (!state.written.has(entryPath(item))) {
        state.written.add(entryPath(item))
        keep(context, state, selected, item)
      }
    }
    state.itemsBackedUp += selected.length
    yield* context.onProgress({ itemsBackedUp: state.itemsBackedUp })
    return Chunk.unsafeFromArray(selected)
  })

const whereOf = (target: ListTarget) => {
  const resource = groupResource(target.resource)
  return target.namespace === undefined ? { resource } : { resource, namespace: target.namespace }
}

/** One target's objects at `revision`, or at the newest where the server cannot read exactly. */
const readTarget = (context: WriteContext, state: AttemptState, revision: string, target: ListTarget) =>
  readAtRevision(target, revision, {
    pageSize: context.pageSize,
    onInexact: (_, reason) =>
      Effect.suspend(() => {
        state.consistency = "BestEffort"
        const warning = `not readable at revision ${revision}, read at the newest instead: ${reason}`
        state.results.add("warnings", warning, whereOf(target))
        return context.log.write("warning", warning, whereOf(target))
      })
  })

/** One target's selected items. A failed list is an error of this backup, except 410 Gone, which ends the attempt. */
const targetItems = (
  context: WriteContext,
  state: AttemptState,
  target: ListTarget,
  objects: Stream.Stream<KubeObject, KubeError>
): Stream.Stream<SelectedItem, KubeGone, KubeClient> =>
  Stream.suspend(() => {
    const where = whereOf(target)
    const before = state.itemsBackedUp
    const listFailed = (error: KubeError) =>
      Effect.suspend(() => {
        state.results.add("errors", `list failed: ${error.message}`, where)
        return context.log.write("error", `list failed: ${error.message}`, where)
      })
    const summary = Effect.suspend(() => {
      const count = state.itemsBackedUp - before
      return count === 0 ? Effect.void : context.log.write("info", `backed up ${count} items`, where)
    })
    return objects.pipe(
      Stream.mapChunksEffect((page) => selectPage(context, state, target, page)),
      Stream.catchAll((error) => error._tag === "KubeGone" ? Stream.fail(error) : Stream.execute(listFailed(error))),
      Stream.concat(Stream.execute(summary))
    )
  })

/**
 * Lists started before the current one is written (each holding its first page), and pages the
 * list being written holds ahead: a backup holds at most (8 + 1) + (1 + 1) = 11 pages of objects
 * at once, whatever its size.
 */
const readAhead = { sources: 8, chunks: 1 } as const

/**
 * What one read covers: a list target, or the objects an order names, read from every target of
 * their resource before its lists (a second read at the same revision, so only the named objects
 * are held, never the whole resource).
 */
type Read =
  | { readonly _tag: "Target"; readonly target: ListTarget; readonly skip?: ReadonlySet<string> }
  | { readonly _tag: "Ordered"; readonly targets: ReadonlyArray<ListTarget>; readonly names: ReadonlyArray<string> }

const readsOf = (context: WriteContext): ReadonlyArray<Read> => {
  const reads: Array<Read> = []
  const started = new Set<string>()
  for (const target of context.targets) {
    const resource = groupResource(target.resource)
    const names = context.orders?.get(resource)
    if (names === undefined) {
      reads.push({ _tag: "Target", target })
      continue
    }
    if (!started.has(resource)) {
      started.add(resource)
      const targets = context.targets.filter((other) => groupResource(other.resource) === resource)
      reads.push({ _tag: "Ordered", targets, names })
    }
    reads.push({ _tag: "Target", target, skip: new Set(names) })
  }
  return reads
}

/** The named objects in the order's order; names not found are a warning in the log, as Velero's. */
const orderedItems = (
  context: WriteContext,
  state: AttemptState,
  read: Extract<Read, { _tag: "Ordered" }>,
  objects: Stream.Stream<KubeObject, KubeError>
): Stream.Stream<SelectedItem, KubeGone, KubeClient> => {
  const target = read.targets[0]!
  const wanted = new Set(read.names)
  const sorted = objects.pipe(
    Stream.filter((object) => wanted.has(orderKey(object))),
    Stream.runCollect,
    Effect.flatMap((found) =>
      Effect.gen(function*() {
        const byKey = new Map(Chunk.toReadonlyArray(found).map((object) => [orderKey(object), object]))
        const missing = read.names.filter((name) => !byKey.has(name))
        if (missing.length > 0) {
          yield* context.log.write("warning", `orderedResources: not found: ${missing.join(", ")}`, {
            resource: groupResource(target.resource)
          })
        }
        return read.names.flatMap((name) => {
          const object = byKey.get(name)
          return object === undefined ? [] : [object]
        })
      })
    )
  )
  return targetItems(context, state, { resource: target.resource }, Stream.flattenIterables(Stream.fromEffect(sorted)))
}

/** Every selected item of the cut at `revision`, target after target, in the order of `listTargets`. */
export const selectedItems = (
  context: WriteContext,
  state: AttemptState,
  revision: string
): Stream.Stream<SelectedItem, KubeGone, KubeClient> =>
  concatReadAhead(
    readsOf(context),
    (read) =>
      read._tag === "Target"
        ? readTarget(context, state, revision, read.target)
        : Stream.flatMap(Stream.fromIterable(read.targets), (target) => readTarget(context, state, revision, target)),
    (read, objects) => {
      if (read._tag === "Ordered") return orderedItems(context, state, read, objects)
      const skip = read.skip
      return targetItems(
        context,
        state,
        read.target,
        skip === undefined ? objects : objects.pipe(Stream.filter((object) => !skip.has(orderKey(object))))
      )
    },
    readAhead
  )

/**
 * Reads the cluster at one new revision and uploads the tarball as it is produced. Fails with
 * KubeGone when the revision is compacted mid-way; the upload is then abandoned (an object store
 * only publishes a fully consumed body), so a retry writes a whole new tarball.
 */
export const writeTarball = Effect.fn("Backup.writeTarball")(function*(context: WriteContext) {
  const store = yield* ObjectStore
  const kube = yield* KubeClient
  const revision = yield* currentRevision()
  const state: AttemptState = {
    consistency: "Exact",
    itemsBackedUp: 0,
    related: makeRelated(),
    resourceList: new Map(),
    results: makeBackupResults(),
    inventory: makeInventory(),
    written: context.actions === undefined ? undefined : new Set()
  }
  for (const warning of context.warnings) state.results.add("warnings", warning)
  yield* context.log.write("info", `reading the cluster at revision ${revision}`)
  yield* context.onProgress({ itemsBackedUp: 0 })
  const items = selectedItems(context, state, revision).pipe(
    Stream.map((item) => toArchiveItem(item)),
    Stream.provideService(KubeClient, kube)
  )
  yield* store.put(context.tarballKey, writeArchive(items, { mtimeMillis: context.startMillis }))
  yield* context.onProgress({ totalItems: state.itemsBackedUp, itemsBackedUp: state.itemsBackedUp })
  const attempt: Attempt = {
    revision,
    consistency: state.consistency,
    itemsBackedUp: state.itemsBackedUp,
    resourceList: state.resourceList,
    results: state.results,
    inventory: state.inventory
  }
  return attempt
})
