// Multi-version object history, the in-memory counterpart of etcd's MVCC store: one global
// revision over every resource, each object's versions kept until compaction.
import type { KubeObject } from "../../../services/KubeClient.ts"

export interface Version {
  readonly revision: number
  /** The object as of this revision; for a deletion, its last state stamped with the deletion revision. */
  readonly object: KubeObject
  readonly deleted: boolean
}

export interface Table {
  /** objectKey → versions, oldest first. */
  readonly histories: Map<string, Array<Version>>
  /** Keys in namespace/name order; rebuilt lazily after a key appears or disappears. */
  sortedKeys: Array<string> | undefined
}

export interface Store {
  revision: number
  /** Revisions below this one have been compacted away. */
  compacted: number
  /** tableKey (group/resource) → table. */
  readonly tables: Map<string, Table>
}

export const makeStore = (): Store => ({ revision: 0, compacted: 0, tables: new Map() })

/** NUL sorts before every name character, so keys order by namespace, then name. */
export const objectKey = (namespace: string, name: string): string => `${namespace}\u0000${name}`

export const namespacePrefix = (namespace: string): string => `${namespace}\u0000`

export const tableOf = (store: Store, tableKey: string): Table => {
  let table = store.tables.get(tableKey)
  if (table === undefined) {
    table = { histories: new Map(), sortedKeys: undefined }
    store.tables.set(tableKey, table)
  }
  return table
}

/** The live object, or undefined when absent or deleted. */
export const current = (table: Table | undefined, key: string): KubeObject | undefined => {
  const history = table?.histories.get(key)
  const last = history?.[history.length - 1]
  return last === undefined || last.deleted ? undefined : last.object
}

/** The version in effect at `revision`, deleted or not. */
export const versionAt = (history: ReadonlyArray<Version>, revision: number): Version | undefined => {
  for (let i = history.length - 1; i >= 0; i--) {
    const version = history[i]!
    if (version.revision <= revision) return version
  }
  return undefined
}

export const objectAt = (table: Table, key: string, revision: number): KubeObject | undefined => {
  const history = table.histories.get(key)
  const version = history === undefined ? undefined : versionAt(history, revision)
  return version === undefined || version.deleted ? undefined : version.object
}

const stamp = (object: KubeObject, revision: number): KubeObject => ({
  ...object,
  metadata: { ...object.metadata, resourceVersion: String(revision) }
})

/** Writes a new version at the next revision and returns it. */
export const record = (store: Store, tableKey: string, key: string, object: KubeObject, deleted: boolean): Version => {
  const table = tableOf(store, tableKey)
  store.revision += 1
  const version: Version = { revision: store.revision, object: stamp(object, store.revision), deleted }
  const history = table.histories.get(key)
  if (history === undefined) {
    table.histories.set(key, [version])
    table.sortedKeys = undefined
  } else {
    history.push(version)
  }
  return version
}

export const sortedKeys = (table: Table): Array<string> => {
  if (table.sortedKeys === undefined) {
    table.sortedKeys = [...table.histories.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }
  return table.sortedKeys
}

/** Index of the first key greater than `after` (or ≥ `from` when inclusive). */
export const lowerBound = (keys: ReadonlyArray<string>, bound: string, inclusive: boolean): number => {
  let low = 0
  let high = keys.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const key = keys[middle]!
    if (key < bound || (!inclusive && key === bound)) low = middle + 1
    else high = middle
  }
  return low
}

/**
 * Like etcd compaction at `revision`: the state at `revision` stays readable, everything older
 * goes. Each object keeps its newest version at or below it; a deletion with nothing after it
 * drops the object entirely.
 */
export const compact = (store: Store, revision: number): void => {
  if (revision <= store.compacted) return
  store.compacted = revision
  for (const table of store.tables.values()) {
    for (const [key, history] of table.histories) {
      let keep = -1
      for (let i = history.length - 1; i >= 0; i--) {
        if (history[i]!.revision <= revision) {
          keep = i
          break
        }
      }
      if (keep < 0) continue
      if (keep === history.length - 1 && history[keep]!.deleted) {
        table.histories.delete(key)
        table.sortedKeys = undefined
      } else if (keep > 0) {
        history.splice(0, keep)
      }
    }
  }
}

/** Drops a whole table, as when a CRD goes away. */
export const dropTable = (store: Store, tableKey: string): void => {
  store.tables.delete(tableKey)
}
