// What one sync pass does, decided from the cluster's Backups and the location's listing alone.
// Pure: every safety rule lives here and is table-tested.
import type { LocationPhase } from "../api/index.ts"
import type { LocationContents } from "./listing.ts"

/** A Backup resource of the server namespace, as sync sees it. */
export interface ClusterBackup {
  readonly name: string
  readonly uid: string
  /** undefined: no phase yet (new, or an import whose status is still to be written). */
  readonly phase: string | undefined
  /** undefined when the resource does not decode: such a Backup is never touched. */
  readonly storageLocation: string | undefined
  readonly imported: boolean
}

export interface SyncInput {
  readonly location: string
  readonly locationPhase: LocationPhase | undefined
  /** Every Backup of the namespace, listed before the location (see `syncLocation`). */
  readonly cluster: ReadonlyArray<ClusterBackup>
  readonly contents: LocationContents
}

export interface SyncPlan {
  /** Committed in storage, no Backup of that name in the cluster: create it. */
  readonly imports: ReadonlyArray<string>
  /** Imported earlier but its status never written (the write was interrupted): write it now. */
  readonly finishes: ReadonlyArray<string>
  /** Finished Backups of this location whose `ark-backup.json` is gone: delete the resource. */
  readonly prunes: ReadonlyArray<ClusterBackup>
  /** Why nothing is pruned this pass although something would be; logged as a warning. */
  readonly pruneBlocked: string | undefined
}

const isFinished = (backup: ClusterBackup) => backup.phase === "Completed" || backup.phase === "PartiallyFailed"

/** A phase-less import never ran and holds nothing but a pointer to storage. */
const isUnfinishedImport = (backup: ClusterBackup) =>
  backup.imported && (backup.phase === undefined || backup.phase === "")

const ofLocation = (location: string) => (backup: ClusterBackup) => backup.storageLocation === location

/**
 * The only Backups sync may delete (when their files are gone). New, InProgress, Failed,
 * FailedValidation and Deleting ones never: their files are expected to be missing (not written
 * yet, never committed, or being deleted on purpose).
 */
export const isPrunable = (backup: ClusterBackup): boolean => isFinished(backup) || isUnfinishedImport(backup)

export const planSync = (input: SyncInput): SyncPlan => {
  const { cluster, contents, location } = input
  const committed = new Set(contents.committed)
  const inCluster = new Set(cluster.map((backup) => backup.name))
  const mine = cluster.filter(ofLocation(location))

  const imports = contents.committed.filter((name) => !inCluster.has(name))
  const finishes = mine.filter((backup) => isUnfinishedImport(backup) && committed.has(backup.name)).map((backup) =>
    backup.name
  )
  const candidates = mine.filter((backup) => isPrunable(backup) && !committed.has(backup.name))
  const pruneBlocked = candidates.length === 0 ? undefined : blockedBecause(input, candidates.length)
  return { imports, finishes, prunes: pruneBlocked === undefined ? candidates : [], pruneBlocked }
}

/**
 * Storage is the source of truth, but a misconfigured location must not be taken for an emptied one:
 * deleting Backup resources on a wrong bucket or prefix would hide every backup of the cluster.
 */
const blockedBecause = (input: SyncInput, candidates: number): string | undefined => {
  if (input.locationPhase === "Unavailable") return "the location is Unavailable"
  const { foreign } = input.contents
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(", ") + (foreign.length > 5 ? ", ..." : "")
    return `the location's prefix holds data that is not Ark's (${shown}): probably a wrong bucket or prefix`
  }
  // A location with no backups at all while the cluster has backups stored there is far more likely
  // a wrong bucket or prefix than every backup deleted by hand: prune nothing, and say so. (An
  // operator who did empty it deletes the stale resources with `ark backup delete`.)
  if (input.contents.committed.length === 0) {
    return `the location holds no backups while ${candidates} Backup(s) in the cluster are stored there: probably a wrong bucket or prefix`
  }
  return undefined
}
