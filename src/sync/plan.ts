// What one sync pass does, decided from the cluster's Backups and the location's listing alone.
// Pure: every safety rule lives here and is table-tested.
import type { LocationPhase, StorageIdentity } from "../api/index.ts"
import { describeIdentity, locationMarkerKey, sameIdentity } from "../locations/marker.ts"
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
  /** Where it was stored, as recorded on it; undefined for Backups from before identities. */
  readonly identity: StorageIdentity | undefined
}

export interface SyncInput {
  readonly location: string
  readonly locationPhase: LocationPhase | undefined
  /** Every Backup of the namespace, listed before the location (see `syncLocation`). */
  readonly cluster: ReadonlyArray<ClusterBackup>
  readonly contents: LocationContents
  /** What the location points at now: its bucket, prefix and that prefix's marker; undefined without a marker. */
  readonly current: StorageIdentity | undefined
}

export interface SyncPlan {
  /** Committed in storage, no Backup of that name in the cluster: create it. */
  readonly imports: ReadonlyArray<string>
  /** Imported earlier but its status never written (the write was interrupted): write it now. */
  readonly finishes: ReadonlyArray<string>
  /** Finished Backups of this location, stored where it points now, whose `ark-backup.json` is gone: delete them. */
  readonly prunes: ReadonlyArray<ClusterBackup>
  /**
   * Backups of this location without a recorded identity whose `ark-backup.json` is in the prefix
   * it points at now: record the current identity on them (the upgrade path, and new backups).
   */
  readonly adoptions: ReadonlyArray<ClusterBackup>
  /** Why Backups whose files are missing are kept this pass; logged as a warning and put in the status. */
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
  const current = input.current
  const adoptions = current === undefined
    ? []
    : mine.filter((backup) => isPrunable(backup) && backup.identity === undefined && committed.has(backup.name))
  const candidates = mine.filter((backup) => isPrunable(backup) && !committed.has(backup.name))
  const blocked = candidates.length === 0 ? undefined : blockedBecause(input, candidates.length)
  if (blocked !== undefined) return { imports, finishes, prunes: [], adoptions, pruneBlocked: blocked }
  // Only a Backup recorded as stored exactly where the location points now, marker included, can
  // have lost its files; any other is somewhere else, or cannot be proven to have been here.
  const prunes = current === undefined
    ? []
    : candidates.filter((backup) => backup.identity !== undefined && sameIdentity(backup.identity, current))
  const kept = candidates.filter((backup) => !prunes.includes(backup))
  return {
    imports,
    finishes,
    prunes,
    adoptions,
    pruneBlocked: kept.length === 0 ? undefined : keptBecause(current, kept)
  }
}

/** One line: how many Backups with missing files are kept, grouped by why. */
const keptBecause = (current: StorageIdentity | undefined, kept: ReadonlyArray<ClusterBackup>): string => {
  const head = `kept ${kept.length} Backup(s) whose files are missing from the location`
  if (current === undefined) {
    return `${head}: its prefix has no ${locationMarkerKey} marker, so they cannot be matched to it (location validation writes one into a ReadWrite location)`
  }
  const reasons: Array<string> = []
  const legacy = kept.filter((backup) => backup.identity === undefined).length
  if (legacy > 0) {
    reasons.push(`${legacy} predate storage identities and were never seen in ${describeIdentity(current)}`)
  }
  const elsewhere = new Map<string, number>()
  for (const backup of kept) {
    if (backup.identity !== undefined) {
      const where = describeIdentity(backup.identity)
      elsewhere.set(where, (elsewhere.get(where) ?? 0) + 1)
    }
  }
  for (const [where, count] of [...elsewhere].slice(0, 3)) {
    reasons.push(`${count} were stored in ${where}`)
  }
  if (elsewhere.size > 3) reasons.push(`others in ${elsewhere.size - 3} more places`)
  return `${head}: ${reasons.join(", ")}; the location points at ${describeIdentity(current)}${
    elsewhere.size > 0 ? " (re-pointed?)" : ""
  }`
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
