// Watch events from store changes, filtered like the apiserver's watch cache: an object that
// starts matching the selector arrives as ADDED, one that stops matching as DELETED.
import type { KubeObject, WatchEvent } from "../../../services/KubeClient.ts"
import type { Table } from "./store.ts"

export interface Change {
  readonly revision: number
  /** The live object before the change, if any. */
  readonly previous: KubeObject | undefined
  /** After the change; for a deletion, the last state stamped with the deletion revision. */
  readonly object: KubeObject
  readonly deleted: boolean
}

export type WatchFilter = (object: KubeObject) => boolean

const stamped = (object: KubeObject, revision: number): KubeObject => ({
  ...object,
  metadata: { ...object.metadata, resourceVersion: String(revision) }
})

export const toEvent = (change: Change, passes: WatchFilter): WatchEvent | undefined => {
  const before = change.previous !== undefined && passes(change.previous)
  if (change.deleted) return passes(change.object) ? { type: "DELETED", object: change.object } : undefined
  const after = passes(change.object)
  if (after) return { type: before ? "MODIFIED" : "ADDED", object: change.object }
  // Stopped matching: the old content, at the revision that made it stop.
  return before ? { type: "DELETED", object: stamped(change.previous!, change.revision) } : undefined
}

/** Every change in `table` after `revision`, oldest first. */
export const changesAfter = (table: Table | undefined, revision: number, namespacePrefix?: string): Array<Change> => {
  const changes: Array<Change> = []
  if (table === undefined) return changes
  for (const [key, history] of table.histories) {
    if (namespacePrefix !== undefined && !key.startsWith(namespacePrefix)) continue
    for (let i = history.length - 1; i >= 0; i--) {
      const version = history[i]!
      if (version.revision <= revision) break
      const before = i > 0 ? history[i - 1] : undefined
      changes.push({
        revision: version.revision,
        previous: before === undefined || before.deleted ? undefined : before.object,
        object: version.object,
        deleted: version.deleted
      })
    }
  }
  return changes.sort((a, b) => a.revision - b.revision)
}
