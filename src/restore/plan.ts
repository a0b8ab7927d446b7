// The restore's plan: one streaming pass over the tarball that keeps a small record per entry
// (names, uids, level, selection, skip reason) — never the objects themselves — and the
// decisions that need the whole backup: cluster-scoped objects pulled in by selected ones, and
// objects whose controller owner is restored (the owner recreates them).
import { Effect, Either, Stream } from "effect"

import type { ApiResource, KubeObject } from "../../services/KubeClient.ts"
import { parseGroupResource, resourceEntryPath } from "../archive/layout.ts"
import type { ArchiveEntry } from "../archive/reader.ts"
import { entryJson } from "../archive/reader.ts"
import type { Related } from "../backup/select.ts"
import { includeObject, makeRelated, recordIncluded } from "../backup/select.ts"
import type { RestoreActions } from "./actions.ts"
import type { RestoreSelection } from "./filters.ts"
import { resourceIncluded } from "./filters.ts"
import { controllerOf } from "./skips.ts"
import { serviceAccountTokenType } from "./transforms.ts"

/** The restore order: CRDs first, then these, then everything else. */
export const restorePriorities: ReadonlyArray<string> = [
  "customresourcedefinitions.apiextensions.k8s.io",
  "namespaces",
  "storageclasses.storage.k8s.io",
  "persistentvolumes",
  "persistentvolumeclaims",
  "secrets",
  "configmaps",
  "serviceaccounts",
  "limitranges",
  "pods"
]

export const crdLevel = 0
export const lastLevel = restorePriorities.length

/** The level a group-resource is restored at: levels run one after another, items of one level concurrently. */
export const restorePriority = (groupResourceName: string): number => {
  const index = restorePriorities.indexOf(groupResourceName)
  return index < 0 ? lastLevel : index
}

/**
 * The level an object is restored at. A ServiceAccount's token Secret waits for the account: the
 * token controller deletes a token Secret whose account does not exist.
 */
export const restoreLevel = (groupResourceName: string, object: KubeObject): number =>
  groupResourceName === "secrets" && object["type"] === serviceAccountTokenType
    ? restorePriority("serviceaccounts") + 1
    : restorePriority(groupResourceName)

export interface PlannedItem {
  readonly path: string
  readonly groupResource: string
  /** The backed-up namespace; undefined for cluster-scoped objects. */
  readonly namespace: string | undefined
  readonly name: string
  readonly kind: string
  readonly level: number
  readonly uid: string | undefined
  readonly controllerUid: string | undefined
  /** Kept for cluster-scoped objects only: they are selected after the pass. */
  readonly labels: Readonly<Record<string, string>> | undefined
  /** Whether the restore's filters select it. */
  selected: boolean
  /** Why a selected item is not restored. */
  skip: string | undefined
}

/**
 * The plan's record of one entry. The path is derived, not kept, and the group-resource,
 * namespace and kind strings are shared: the record is what a restore holds per object of the
 * backup: about 200 bytes at 100k-300k objects, measured by bench/planMemory.ts (330-356 when it
 * kept a path and its own copies of those strings).
 */
class PlannedEntry implements PlannedItem {
  readonly groupResource: string
  readonly namespace: string | undefined
  readonly name: string
  readonly kind: string
  readonly level: number
  readonly uid: string | undefined
  readonly controllerUid: string | undefined
  readonly labels: Readonly<Record<string, string>> | undefined
  selected: boolean
  skip: string | undefined
  constructor(fields: Omit<PlannedItem, "path">) {
    this.groupResource = fields.groupResource
    this.namespace = fields.namespace
    this.name = fields.name
    this.kind = fields.kind
    this.level = fields.level
    this.uid = fields.uid
    this.controllerUid = fields.controllerUid
    this.labels = fields.labels
    this.selected = fields.selected
    this.skip = fields.skip
  }
  get path(): string {
    return resourceEntryPath(this.groupResource, this.namespace, this.name)
  }
}

export interface RestorePlan {
  /** Every object entry of the backup, in archive order. */
  readonly items: ReadonlyArray<PlannedItem>
  /** Entries that are not a usable object: path, and why. Item errors, not a failed restore. */
  readonly invalid: ReadonlyArray<{ readonly path: string; readonly reason: string }>
  readonly formatVersion: string | undefined
}

/** The selected items that are created, by level. */
export const itemsToRestore = (plan: RestorePlan): ReadonlyMap<number, ReadonlyArray<PlannedItem>> => {
  const levels = new Map<number, Array<PlannedItem>>()
  for (const item of plan.items) {
    if (!item.selected || item.skip !== undefined) continue
    const level = levels.get(item.level)
    if (level === undefined) levels.set(item.level, [item])
    else level.push(item)
  }
  return levels
}

/** What `includeObject` reads of a resource: its names and scope. */
const resourceOf = (groupResourceName: string, namespaced: boolean, kind: string): ApiResource => {
  const { group, resource } = parseGroupResource(groupResourceName)
  return {
    group,
    version: "",
    resource,
    kind,
    namespaced,
    verbs: [],
    shortNames: [],
    singularName: "",
    statusSubresource: false
  }
}

/** Why the object at this path cannot be restored as it stands, or undefined. */
const mismatch = (object: KubeObject, namespace: string | undefined, name: string): string | undefined => {
  const actualNamespace = object.metadata.namespace ?? ""
  if ((object.metadata.name ?? "") !== name) {
    return `the object is named "${object.metadata.name ?? ""}", not "${name}" as its path says`
  }
  if (namespace !== undefined && actualNamespace !== namespace) {
    return `the object's namespace "${actualNamespace}" differs from its path's "${namespace}"`
  }
  if (namespace === undefined && actualNamespace !== "") {
    return `a cluster-scoped path holds an object in namespace "${actualNamespace}"`
  }
  if (typeof object.kind !== "string" || object.kind === "" || typeof object.apiVersion !== "string") {
    return "the object has no kind or apiVersion"
  }
  return undefined
}

interface PassState {
  readonly items: Array<PlannedItem>
  readonly invalid: Array<{ readonly path: string; readonly reason: string }>
  readonly related: Related
  /** Object names seen so far by group-resource and namespace, and the paths seen more than once. */
  readonly seen: Map<string, Set<string>>
  readonly duplicates: Set<string>
  /** One copy of each group-resource, namespace and kind string. */
  readonly shared: Map<string, string>
  formatVersion: string | undefined
  /** Why an object is skipped on its own account: the item actions' skips. */
  readonly skip: RestoreActions["skip"]
}

const decoder = new TextDecoder()

const indexEntry = (state: PassState, selection: RestoreSelection, entry: ArchiveEntry): void => {
  const location = entry.location
  if (location._tag === "Metadata") {
    if (location.name === "version") state.formatVersion = decoder.decode(entry.data).trim()
    return
  }
  // Ark's writer never repeats a path; which copy is meant cannot be known, so none is restored.
  const seenKey = `${location.groupResource}/${location.namespace ?? ""}`
  let names = state.seen.get(seenKey)
  if (names === undefined) state.seen.set(seenKey, names = new Set())
  if (names.has(location.name)) {
    if (!state.duplicates.has(entry.path)) {
      state.duplicates.add(entry.path)
      state.invalid.push({
        path: entry.path,
        reason: "the archive holds this path more than once; no copy is restored"
      })
    }
    return
  }
  const parsed = entryJson(entry)
  if (Either.isLeft(parsed)) {
    names.add(location.name)
    state.invalid.push({ path: entry.path, reason: parsed.left.reason })
    return
  }
  const object = parsed.right as unknown as KubeObject
  const problem = typeof object.metadata === "object" && object.metadata !== null
    ? mismatch(object, location.namespace, location.name)
    : "the object has no metadata"
  if (problem !== undefined) {
    names.add(location.name)
    state.invalid.push({ path: entry.path, reason: problem })
    return
  }
  // The parsed object's own name (equal, as checked): the path's pieces are slices that keep the path.
  const name = object.metadata.name ?? ""
  names.add(name)
  const namespaced = location.namespace !== undefined
  const resource = resourceOf(location.groupResource, namespaced, object.kind)
  // Namespaced objects are decided now; cluster-scoped ones once everything they may relate to is known.
  const selected = namespaced &&
    resourceIncluded(selection.resources, location.groupResource) &&
    includeObject(selection.filters, state.related, resource, object)
  if (selected) recordIncluded(state.related, resource, object)
  state.items.push(
    new PlannedEntry({
      groupResource: shared(state, location.groupResource),
      namespace: location.namespace === undefined ? undefined : shared(state, location.namespace),
      name,
      kind: shared(state, object.kind),
      level: restoreLevel(location.groupResource, object),
      uid: object.metadata.uid,
      controllerUid: controllerOf(object)?.uid,
      labels: namespaced ? undefined : object.metadata.labels ?? {},
      selected,
      skip: state.skip(location.groupResource, object)
    })
  )
}

const shared = (state: PassState, text: string): string => {
  const known = state.shared.get(text)
  if (known !== undefined) return known
  state.shared.set(text, text)
  return text
}

const selectClusterScoped = (state: PassState, selection: RestoreSelection): void => {
  for (const item of state.items) {
    if (item.namespace !== undefined) continue
    const object: KubeObject = {
      apiVersion: "",
      kind: item.kind,
      metadata: { name: item.name, labels: item.labels ?? {} }
    }
    item.selected = resourceIncluded(selection.resources, item.groupResource) &&
      includeObject(selection.filters, state.related, resourceOf(item.groupResource, false, item.kind), object)
  }
}

/**
 * An item is recreated by its owner when its controller owner is in the backup, is not skipped on
 * its own account, and is selected or itself recreated by its owner — so a Deployment's
 * ReplicaSet is skipped, and so are that ReplicaSet's pods.
 */
const skipOwned = (items: ReadonlyArray<PlannedItem>): void => {
  const byUid = new Map<string, PlannedItem>()
  for (const item of items) if (item.uid !== undefined && item.uid !== "") byUid.set(item.uid, item)
  const skippedOnItsOwn = new Set(items.filter((item) => item.skip !== undefined))
  const memo = new Map<PlannedItem, boolean>()
  const ownerOf = (item: PlannedItem) => (item.controllerUid === undefined ? undefined : byUid.get(item.controllerUid))
  // The depth bound only matters for a crafted backup whose owner references form a cycle.
  const recreatedByOwner = (item: PlannedItem, depth: number): boolean => {
    const known = memo.get(item)
    if (known !== undefined) return known
    const owner = ownerOf(item)
    const result = owner !== undefined && owner !== item && depth < 16 && !skippedOnItsOwn.has(owner) &&
      (owner.selected || recreatedByOwner(owner, depth + 1))
    memo.set(item, result)
    return result
  }
  for (const item of items) {
    if (!item.selected || item.skip !== undefined || !recreatedByOwner(item, 0)) continue
    const owner = ownerOf(item)
    if (owner === undefined) continue
    item.skip = owner.selected && !recreatedByOwner(owner, 0)
      ? `owned by a restored ${owner.kind}: ${owner.name}`
      : `owned by a ${owner.kind} its own owner recreates: ${owner.name}`
  }
}

/** One pass over the entries: the plan, or the archive's own error (bad gzip, traversal, truncation). */
export const planRestore = <E, R>(
  entries: Stream.Stream<ArchiveEntry, E, R>,
  selection: RestoreSelection,
  actions: Pick<RestoreActions, "skip">
) =>
  Effect.gen(function*() {
    const state: PassState = {
      items: [],
      invalid: [],
      related: makeRelated(),
      seen: new Map(),
      duplicates: new Set(),
      shared: new Map(),
      formatVersion: undefined,
      skip: actions.skip
    }
    // A chunk of entries per step (the reader batches them): this pass sees every object in the backup.
    yield* Stream.runForEachChunk(entries, (chunk) =>
      Effect.sync(() => {
        for (const entry of chunk) indexEntry(state, selection, entry)
      }))
    const items = state.duplicates.size === 0
      ? state.items
      : state.items.filter((item) => !state.duplicates.has(item.path))
    selectClusterScoped({ ...state, items }, selection)
    skipOwned(items)
    const plan: RestorePlan = { items, invalid: state.invalid, formatVersion: state.formatVersion }
    return plan
  }).pipe(Effect.withSpan("Restore.plan"))
