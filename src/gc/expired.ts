// TTL garbage collection (docs/design.md, "Schedules, expiry and deletion"): a backup whose
// status.expiration has passed is deleted through a DeleteBackupRequest, the same path as `ark
// backup delete`. One pass is one list of the namespace's backups; the controller runs a pass
// every period.
import { DateTime, Effect, Either, Option, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { defaultStorageLocation, group, kinds, version } from "../api/index.ts"
import {
  deleteBackupRequestsGvr,
  isProcessed,
  listDeleteBackupRequests,
  newDeleteBackupRequest,
  phaseOf,
  requestedBackup
} from "../deletion/requests.ts"
import { listLocations } from "../locations/resolve.ts"

const backupsGvr: GroupVersionResource = { group, version, resource: kinds.Backup.plural }

/** Backups still being written or already being deleted are never collected. */
const busyPhases = new Set(["New", "InProgress", "Deleting"])

const field = (object: KubeObject, part: "spec" | "status", name: string): string | undefined => {
  const section = object[part]
  if (typeof section !== "object" || section === null) return undefined
  const value = (section as Record<string, unknown>)[name]
  return typeof value === "string" && value !== "" ? value : undefined
}

/** True when the backup has finished and its expiration is at or before `now`. */
export const isExpired = (backup: KubeObject, now: DateTime.DateTime): boolean => {
  if (busyPhases.has(phaseOf(backup) ?? "New")) return false
  const expiration = field(backup, "status", "expiration")
  if (expiration === undefined) return false
  const time = DateTime.make(expiration)
  return Option.isSome(time) && DateTime.lessThanOrEqualTo(time.value, now)
}

/** `status.retention` as the backup recorded it, when it has not passed by `now`. */
const heldUntil = (backup: KubeObject, now: DateTime.DateTime): Option.Option<{ mode: string; until: string }> => {
  const status = backup["status"]
  const retention = typeof status === "object" && status !== null
    ? (status as Record<string, unknown>)["retention"]
    : undefined
  if (typeof retention !== "object" || retention === null) return Option.none()
  const { mode, retainUntil } = retention as Record<string, unknown>
  if (typeof mode !== "string" || typeof retainUntil !== "string") return Option.none()
  return DateTime.make(retainUntil).pipe(
    Option.filter((until) => DateTime.greaterThan(until, now)),
    Option.as({ mode, until: retainUntil })
  )
}

export interface CollectionPass {
  /** Backups a DeleteBackupRequest was created for in this pass. */
  readonly requested: ReadonlyArray<string>
  /** Expired backups left alone, with why. */
  readonly skipped: ReadonlyArray<{ readonly backup: string; readonly reason: string }>
}

/** One pass: a request for every expired backup that has none pending; per-backup failures are logged. */
export const collectExpiredBackups = Effect.fn("Gc.collectExpiredBackups")(function*(namespace: string) {
  const kube = yield* KubeClient
  const now = yield* DateTime.now
  const pages = yield* Stream.runCollect(kube.listPages(backupsGvr, { namespace, limit: 500 }))
  const expired = [...pages].flatMap((page) => page.items).filter((backup) => isExpired(backup, now))
  const requested: Array<string> = []
  const skipped: Array<{ readonly backup: string; readonly reason: string }> = []
  if (expired.length === 0) return { requested, skipped } satisfies CollectionPass

  const pending = new Set(
    (yield* listDeleteBackupRequests(namespace)).filter((request) => !isProcessed(request)).map((request) =>
      requestedBackup(request)
    )
  )
  const accessModes = new Map(
    (yield* listLocations(namespace)).map((
      location
    ) => [location.metadata.name ?? "", field(location, "spec", "accessMode")])
  )
  for (const backup of expired) {
    const name = backup.metadata.name ?? ""
    if (pending.has(name)) continue
    const location = field(backup, "spec", "storageLocation") ?? defaultStorageLocation
    // Deleting from a ReadOnly location is refused; asking every period would only repeat the refusal.
    if (accessModes.get(location) === "ReadOnly") {
      skipped.push({ backup: name, reason: `its storage location "${location}" is ReadOnly` })
      yield* Effect.logInfo(`backup ${name} has expired but its storage location ${location} is ReadOnly: kept`)
      continue
    }
    // An expiration moved before the retention cannot shorten it: a request now would only be refused.
    const held = heldUntil(backup, now)
    if (Option.isSome(held)) {
      const reason =
        `its files are retained until ${held.value.until} (S3 Object Lock, mode ${held.value.mode}); an earlier expiration cannot shorten that`
      skipped.push({ backup: name, reason })
      yield* Effect.logInfo(`backup ${name} has expired but ${reason}: kept`)
      continue
    }
    const created = yield* kube.create(deleteBackupRequestsGvr, newDeleteBackupRequest(name, namespace)).pipe(
      Effect.either
    )
    if (Either.isLeft(created)) {
      skipped.push({ backup: name, reason: created.left.message })
      yield* Effect.logWarning(`cannot request the deletion of expired backup ${name}`, created.left.message)
      continue
    }
    requested.push(name)
    yield* Effect.logInfo(`backup ${name} has expired: deletion requested (${created.right.metadata.name ?? ""})`)
  }
  return { requested, skipped } satisfies CollectionPass
})
