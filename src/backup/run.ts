// A backup from start to commit (docs/design.md, "Backup semantics"): discover → validate → plan
// the lists → write the tarball at one revision (again from scratch on 410 Gone) → hooks and volume
// snapshots → upload the snapshot records, log, resource list and results → commit
// `ark-backup.json` last. Snapshots of a backup that does not commit are deleted again. Returns
// the Backup with its final status and never fails: every failure becomes a phase.
import type { KeyObject } from "node:crypto"

import { Clock, Data, DateTime, Duration, Effect, Either, Fiber, Option, Stream } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup, BackupStatus } from "../api/backup.ts"
import { toTimestamp } from "../api/common.ts"
import { parseGoDuration } from "../api/duration.ts"
import type { ObjectLockMode } from "../api/locations.ts"
import { gzipText } from "../archive/gzip.ts"
import type { BackupKeys } from "../archive/layout.ts"
import { backupKeys, formatVersion } from "../archive/layout.ts"
import { hasHooks, podHooks } from "../hooks/select.ts"
import { recordingStore } from "../integrity/digest.ts"
import { encryptingStore } from "../integrity/encryption.ts"
import type { MinimalBackup } from "../integrity/minimal.ts"
import { minimalBackup } from "../integrity/minimal.ts"
import { signatureKeyOf, signBytes } from "../integrity/signature.ts"
import { backupRetention, retainingStore } from "../objectlock/retention.ts"
import type { SnapshotStore } from "../volumes/locations.ts"
import { openSnapshotLocations } from "../volumes/locations.ts"
import type { VolumeSnapshotRecord } from "../volumes/records.ts"
import { writeSnapshotRecords } from "../volumes/records.ts"
import type { BackupActions } from "./actions.ts"
import { backupActions } from "./actions.ts"
import { defaultPageSize } from "./cut.ts"
import type { BackupLog } from "./log.ts"
import { makeBackupLog } from "./log.ts"
import { resolveOrders } from "./order.ts"
import { selectResources } from "./resources.ts"
import type { Filters, ListTarget } from "./select.ts"
import { listTargets, makeFilters } from "./select.ts"
import { validateBackupSpec } from "./validate.ts"
import type { VolumeServices } from "./volumes.ts"
import { deleteTakenSnapshots, runVolumeStep } from "./volumes.ts"
import type { Attempt, BackupProgress, WriteContext } from "./write.ts"
import { writeTarball } from "./write.ts"

export interface BackupDeps {
  /** Names of the BackupStorageLocations that exist (validation). */
  readonly storageLocations: ReadonlyArray<string>
  /** Called as items are written; a controller keeps the latest and patches status now and then. */
  readonly onProgress?: (progress: BackupProgress) => Effect.Effect<void>
  readonly pageSize?: number
  /** Cuts started before giving up when each one's revision is compacted mid-way. */
  readonly maxAttempts?: number
  readonly logLineLimit?: number
  /**
   * Block stores and the hook runner. Without them the backup takes only objects: no hooks run
   * and no volume is snapshotted (unit tests of the object pipeline, restore-only tooling).
   */
  readonly volumes?: VolumeServices
  /** The location's Ed25519 signing key: ark-backup.json is signed with it. */
  readonly signingKey?: KeyObject
  /** The location's age recipients: every file but ark-backup.json is encrypted for them. */
  readonly recipients?: ReadonlyArray<string>
  /**
   * For the integrity benchmark only (bench/integrity.ts): false skips hashing the files, so
   * ark-backup.json lists none. Never set by the server or the CLI.
   */
  readonly digests?: boolean
  /** The location's S3 Object Lock: every file is retained until the start plus the TTL. */
  readonly objectLock?: { readonly mode: ObjectLockMode }
}

export const defaultMaxAttempts = 3

/** Why a backup that passed validation did not commit; becomes status.failureReason. */
export class BackupFailed extends Data.TaggedError("BackupFailed")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

const failedBecause = (prefix: string) => (error: { readonly message: string }) =>
  new BackupFailed({ reason: `${prefix}: ${error.message}` })

const timestamp = (millis: number) => toTimestamp(DateTime.unsafeMake(millis))

const withStatus = (backup: Backup, status: BackupStatus): Backup => ({
  ...backup,
  status: { ...backup.status, ...status }
})

export interface Plan {
  readonly filters: Filters
  readonly targets: ReadonlyArray<ListTarget>
  /** orderedResources by group-resource: the objects written first. */
  readonly orders: ReadonlyMap<string, ReadonlyArray<string>>
  /** Group versions discovery could not reach: warnings, not failures. */
  readonly warnings: ReadonlyArray<string>
  /** The embedding program's item actions, when it registered any. */
  readonly actions: BackupActions | undefined
}

/** Discovery, validation and the list plan; Left carries every validation error. */
export const planBackup = Effect.fn("Backup.plan")(function*(backup: Backup, storageLocations: ReadonlyArray<string>) {
  const kube = yield* KubeClient
  const discovery = yield* kube.discover.pipe(Effect.mapError(failedBecause("discovery failed")))
  const actions = yield* backupActions
  const problems = [
    ...validateBackupSpec(backup.spec, { resources: discovery.resources, storageLocations }),
    ...(Either.isLeft(actions) ? actions.left : [])
  ]
  const filters = makeFilters(backup.spec)
  if (problems.length > 0 || Either.isLeft(filters) || Either.isLeft(actions)) return Either.left(problems)
  const { resources } = selectResources(
    backup.spec.includedResources,
    backup.spec.excludedResources,
    discovery.resources
  )
  return Either.right<Plan>({
    filters: filters.right,
    targets: listTargets(filters.right, resources),
    orders: resolveOrders(backup.spec.orderedResources, discovery.resources).orders,
    actions: actions.right,
    warnings: discovery.failedGroups.map((group) =>
      `API group ${group.groupVersion} is unavailable and was not backed up: ${group.message}`
    )
  })
})

/** The tarball, from scratch at a new revision whenever the current one is compacted mid-way. */
const writeTarballWithRestarts = (
  backupName: string,
  keys: BackupKeys,
  plan: Plan,
  log: BackupLog,
  deps: BackupDeps,
  startMillis: number,
  collectVolumes: WriteContext["collectVolumes"]
) =>
  writeTarball({
    ...(collectVolumes === undefined ? {} : { collectVolumes }),
    tarballKey: keys.tarball,
    backupName,
    targets: plan.targets,
    orders: plan.orders,
    actions: plan.actions,
    filters: plan.filters,
    pageSize: deps.pageSize ?? defaultPageSize,
    startMillis,
    log,
    warnings: plan.warnings,
    onProgress: deps.onProgress ?? (() => Effect.void)
  }).pipe(
    Effect.tapErrorTag("KubeGone", (error) =>
      log.write(
        "warning",
        `the revision was compacted while reading (${error.message}); starting over at a new revision`
      )),
    Effect.retry({
      while: (error) => error._tag === "KubeGone",
      times: (deps.maxAttempts ?? defaultMaxAttempts) - 1
    }),
    Effect.mapError(failedBecause("writing the tarball failed"))
  )

/** `{"<apiVersion>/<Kind>": ["ns/name", ...]}`, one kind per piece so it streams into gzip. */
const resourceListJson = (list: ReadonlyMap<string, ReadonlyArray<string>>): Stream.Stream<string> =>
  Stream.fromIterable(
    [...list].map(([key, names], index) => `${index === 0 ? "" : ","}${JSON.stringify(key)}:${JSON.stringify(names)}`)
  ).pipe(
    (pieces) => Stream.concat(Stream.make("{"), pieces),
    Stream.concat(Stream.make("}"))
  )

/**
 * The files next to the tarball: resource list, results and log. They are small and independent,
 * so they upload at once: one round trip instead of three. The log is taken as it stands now,
 * after the last line the backup writes before its commit.
 */
export const uploadSidecars = Effect.fn("Backup.uploadSidecars")(
  function*(keys: BackupKeys, attempt: Attempt, log: BackupLog) {
    const store = yield* ObjectStore
    const lines = yield* log.lines
    yield* Effect.all([
      store.put(keys.resourceList, gzipText(resourceListJson(attempt.resourceList))),
      store.put(keys.results, gzipText(Stream.make(JSON.stringify(attempt.results.toJson())))),
      store.put(keys.logs, gzipText(Stream.fromIterable(lines.map((line) => `${line}\n`))))
    ], { concurrency: "unbounded", discard: true })
  }
)

/**
 * Writes `ark-backup.json` (the Backup, or an encrypted backup's minimal one): from here on the
 * backup exists for sync and restore. With a signing key, its signature goes first, so a committed
 * backup of a signing location is never unsigned.
 */
export const commitBackup = Effect.fn("Backup.commit")(
  function*(keys: BackupKeys, backup: Backup | MinimalBackup, signingKey?: KeyObject) {
    const store = yield* ObjectStore
    const bytes = new TextEncoder().encode(JSON.stringify(backup))
    if (signingKey !== undefined) {
      yield* store.put(
        signatureKeyOf(keys.metadata),
        Stream.make(new TextEncoder().encode(signBytes(signingKey, bytes)))
      )
    }
    yield* store.put(keys.metadata, Stream.make(bytes))
  }
)

/** Removes whatever an uncommitted backup left; best effort, the files are invisible anyway. */
export const cleanupUncommitted = Effect.fn("Backup.cleanup")(function*(keys: BackupKeys) {
  const store = yield* ObjectStore
  for (
    const key of [
      keys.metadata,
      signatureKeyOf(keys.metadata),
      keys.tarball,
      keys.resourceList,
      keys.results,
      keys.logs,
      keys.volumeSnapshots,
      keys.resource
    ]
  ) {
    yield* store.delete(key).pipe(Effect.ignore)
  }
})

/** Runs the backup to its final status: Completed, PartiallyFailed, Failed or FailedValidation. */
export const runBackup = Effect.fn("Backup.run")(function*(backup: Backup, deps: BackupDeps) {
  const store = yield* ObjectStore
  const name = backup.metadata.name ?? ""
  const keys = backupKeys(name)
  const startMillis = yield* Clock.currentTimeMillis
  const started: BackupStatus = { startTimestamp: timestamp(startMillis), formatVersion }
  const failed = (reason: string) =>
    Clock.currentTimeMillis.pipe(
      Effect.map((now) =>
        withStatus(backup, { ...started, phase: "Failed", failureReason: reason, completionTimestamp: timestamp(now) })
      )
    )

  // The look for a committed backup of this name overlaps discovery: independent round trips.
  // A backup that fails validation does not wait for storage.
  const looking = yield* Effect.fork(store.exists(keys.metadata).pipe(Effect.either))
  const planned = yield* planBackup(backup, deps.storageLocations).pipe(Effect.either)
  if (Either.isLeft(planned) || Either.isLeft(planned.right)) yield* Fiber.interrupt(looking)
  if (Either.isLeft(planned)) return yield* failed(planned.left.reason)
  if (Either.isLeft(planned.right)) {
    return withStatus(backup, { phase: "FailedValidation", validationErrors: planned.right.left })
  }
  const plan = planned.right.right

  // Nothing under a committed backup is ever rewritten (nor cleaned up below).
  const exists = yield* Fiber.join(looking)
  if (Either.isLeft(exists)) return yield* failed(`storage unavailable: ${exists.left.message}`)
  if (exists.right) return yield* failed(`backup ${name} already exists in the storage location`)

  // Snapshot locations are resolved before anything is written: a missing named one is a validation error.
  const volumes = deps.volumes
  const snapshotVolumes = volumes !== undefined && backup.spec.snapshotVolumes
  let stores: ReadonlyArray<SnapshotStore> = []
  let unavailableLocations: ReadonlyArray<string> = []
  if (volumes !== undefined && snapshotVolumes) {
    const opened = yield* openSnapshotLocations(
      volumes.blockStores,
      backup.metadata.namespace ?? "",
      backup.spec.volumeSnapshotLocations
    ).pipe(
      Effect.either
    )
    if (Either.isLeft(opened)) {
      return yield* failed(`listing the volume snapshot locations failed: ${opened.left.message}`)
    }
    if (opened.right.problems.length > 0) {
      return withStatus(backup, { phase: "FailedValidation", validationErrors: opened.right.problems })
    }
    stores = opened.right.stores
    unavailableLocations = opened.right.unavailable
  }
  const hookSpecs = backup.spec.hooks?.resources
  const collectVolumes = volumes === undefined
    ? undefined
    : { hasHooks: (pod: KubeObject) => hasHooks(podHooks(pod, hookSpecs)) }
  const records: Array<VolumeSnapshotRecord> = []

  const log = makeBackupLog(name, deps.logLineLimit)
  const ttl = Option.getOrElse(parseGoDuration(backup.spec.ttl), () => Duration.zero) // validated above
  const retention = backupRetention(deps.objectLock, startMillis, ttl)
  const retained = Option.match(retention, {
    onNone: () => store,
    onSome: (retention) => retainingStore(store, keys.dir, retention)
  })
  // Every file is hashed as it uploads; ark-backup.json, written last, lists them all.
  const recording = yield* recordingStore(retained, keys.dir)
  // Encrypted before it is hashed: the digests are of the bytes stored, so verify needs no identity.
  const hashed = deps.digests === false ? retained : recording.store
  const writing = deps.recipients === undefined ? hashed : encryptingStore(hashed, keys, deps.recipients)
  const written = yield* Effect.gen(function*() {
    yield* log.write("info", `backup ${name} started`)
    for (const warning of plan.warnings) yield* log.write("warning", warning)
    const attempt = yield* writeTarballWithRestarts(name, keys, plan, log, deps, startMillis, collectVolumes)
    if (volumes !== undefined) {
      for (const problem of unavailableLocations) {
        attempt.results.add("errors", problem)
        yield* log.write("error", problem)
      }
      yield* runVolumeStep({
        backupName: name,
        snapshotVolumes,
        stores,
        hookSpecs,
        runner: volumes.hooks,
        inventory: attempt.inventory,
        log,
        results: attempt.results,
        records
      }).pipe(Effect.mapError((error) => new BackupFailed({ reason: error.reason })))
    }
    const completedMillis = yield* Clock.currentTimeMillis
    const { errors, warnings } = attempt.results.counts()
    const phase = errors > 0 ? "PartiallyFailed" : "Completed"
    const final = withStatus(backup, {
      ...started,
      phase,
      completionTimestamp: timestamp(completedMillis),
      expiration: toTimestamp(DateTime.addDuration(DateTime.unsafeMake(completedMillis), ttl)),
      progress: { totalItems: attempt.itemsBackedUp, itemsBackedUp: attempt.itemsBackedUp },
      warnings,
      errors,
      resourceVersion: attempt.revision,
      consistency: attempt.consistency,
      ...(deps.recipients === undefined ? {} : { encryption: "age" as const }),
      ...Option.match(retention, {
        onNone: () => ({}),
        onSome: (retention) => ({
          retention: { mode: retention.mode, retainUntil: timestamp(retention.retainUntil.getTime()) }
        })
      }),
      ...(records.length === 0 ? {} : {
        volumeSnapshotsAttempted: records.length,
        volumeSnapshotsCompleted: records.filter((record) => record.phase === "Completed").length
      })
    })
    yield* log.write(
      "info",
      `backup ${name} ${phase}: ${attempt.itemsBackedUp} items at revision ${attempt.revision} (${attempt.consistency}), ${warnings} warnings, ${errors} errors`
    )
    if (records.length > 0) {
      yield* writeSnapshotRecords(name, records).pipe(
        Effect.mapError(failedBecause("uploading the volume snapshot records failed"))
      )
    }
    yield* uploadSidecars(keys, attempt, log).pipe(Effect.mapError(failedBecause("uploading the backup files failed")))
    if (deps.recipients !== undefined) {
      // Encrypted and hashed like the other files, so ark-backup.json lists it and verify checks it.
      yield* writing.put(keys.resource, Stream.make(new TextEncoder().encode(JSON.stringify(final)))).pipe(
        Effect.mapError(failedBecause("uploading the backup resource failed"))
      )
    }
    const committed = deps.digests === false ? final : withStatus(final, { files: yield* recording.files })
    const stored = deps.recipients === undefined ? committed : minimalBackup(committed)
    yield* commitBackup(keys, stored, deps.signingKey).pipe(
      Effect.provideService(ObjectStore, retained),
      Effect.mapError(failedBecause("committing the backup failed"))
    )
    return committed
  }).pipe(
    Effect.provideService(ObjectStore, writing),
    // Bounded, so a shutdown stays prompt when storage is slow; whatever is left is uncommitted, so invisible.
    Effect.onError(() =>
      cleanupUncommitted(keys).pipe(
        Effect.zipRight(deleteTakenSnapshots(records, stores)),
        Effect.timeout("20 seconds"),
        Effect.ignore
      )
    ),
    Effect.either
  )
  return Either.isRight(written) ? written.right : yield* failed(written.left.reason)
})
