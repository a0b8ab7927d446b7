// What a location holds, read completely or not at all: sync acts on a whole listing only, never
// on part of one (a failed call mid-way could make every later backup look deleted).
import type { Option } from "effect"
import { Effect } from "effect"

import type { ObjectStore, ObjectStoreError } from "../../services/ObjectStore.ts"
import { backupKeys } from "../archive/layout.ts"
import { locationMarkerKey, readMarker } from "../locations/marker.ts"

export interface LocationContents {
  /** Backup directories holding `ark-backup.json`, by backup name. */
  readonly committed: ReadonlyArray<string>
  /** Backup directories without it: unfinished or half-deleted, invisible to sync. */
  readonly uncommitted: ReadonlyArray<string>
  /** Whatever sits at the top of the prefix besides `backups/`, `restores/` and the marker: not Ark's data. */
  readonly foreign: ReadonlyArray<string>
  /** The id in the prefix's `ark-location.json`, if it has one. */
  readonly marker: Option.Option<string>
}

const BACKUPS = "backups/"
const RESTORES = "restores/"

/** Existence checks run at once per location: a large location should not take a period to list. */
const EXISTS_CONCURRENCY = 8

export const listLocationContents = (store: ObjectStore.Shape): Effect.Effect<LocationContents, ObjectStoreError> =>
  Effect.gen(function*() {
    const top = yield* store.list("", { delimiter: "/" })
    const foreign = [
      ...top.prefixes.filter((prefix) => prefix !== BACKUPS && prefix !== RESTORES),
      ...top.objects.map((object) => object.key).filter((key) => key !== locationMarkerKey)
    ]
    const marker = yield* readMarker(store)
    const dirs = yield* store.list(BACKUPS, { delimiter: "/" })
    const names = dirs.prefixes
      .map((prefix) => prefix.slice(BACKUPS.length, -1))
      .filter((name) => name !== "")
    const checked = yield* Effect.forEach(
      names,
      (name) => store.exists(backupKeys(name).metadata).pipe(Effect.map((committed) => ({ name, committed }))),
      { concurrency: EXISTS_CONCURRENCY }
    )
    return {
      committed: checked.filter((dir) => dir.committed).map((dir) => dir.name),
      uncommitted: checked.filter((dir) => !dir.committed).map((dir) => dir.name),
      foreign,
      marker
    }
  })
