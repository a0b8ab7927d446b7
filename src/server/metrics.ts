// Ark's metrics (docs/design.md, "Server guarantees"; the README maps Velero's names to these),
// defined once for the process: Effect's metric registry is global, so the controllers record into
// these series and /metrics renders the `ark_` ones (src/server/prometheus.ts).
// As in Velero, every backup, restore, deletion and snapshot series carries `schedule`: the backup's
// `ark.heptio.com/schedule-name` label, the restore's spec.scheduleName, "" when made by hand.
import { Clock, Effect, Exit, Metric, MetricBoundaries, Ref, Stream } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup, LocationPhase } from "../api/index.ts"
import { nameOf, scheduleNameLabel } from "../api/index.ts"
import type { DeletionResult } from "../deletion/backup.ts"
import type { RestoreRun } from "../restore/run.ts"
import type { MetricFamily } from "./prometheus.ts"
import { simpleFamily } from "./prometheus.ts"

/** Only these are exported: Effect's own (`effect_fiber_*`, when runtime metrics are on) are not. */
const metricPrefix = "ark_"

/** Ark's series in the process's registry, and nothing else recorded there. */
export const arkSnapshot = Effect.map(
  Metric.snapshot,
  (pairs) => pairs.filter((pair) => pair.metricKey.name.startsWith(metricPrefix))
)

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })
const gauge = (name: string, description: string) => Metric.gauge(name, { description })

/** From a small namespace (well under a second) to a whole cluster (hours). */
const durationBoundaries = MetricBoundaries.fromIterable([
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
  300,
  600,
  1200,
  1800,
  3600,
  7200,
  14400
])

const runMetrics = (kind: "backup" | "restore", items: string) => ({
  attempts: counter(`ark_${kind}_attempt_total`, `${kind}s started (past validation)`),
  successes: counter(`ark_${kind}_success_total`, `${kind}s that ended Completed`),
  partialFailures: counter(`ark_${kind}_partial_failure_total`, `${kind}s that ended PartiallyFailed`),
  failures: counter(`ark_${kind}_failure_total`, `${kind}s that ended Failed`),
  validationFailures: counter(`ark_${kind}_validation_failure_total`, `${kind}s that ended FailedValidation`),
  duration: Metric.histogram(
    `ark_${kind}_duration_seconds`,
    durationBoundaries,
    `how long ${kind}s ran, start to final phase`
  ),
  items: counter(`ark_${kind}_items_total`, items),
  /** The series without `schedule`. */
  inProgress: gauge(`ark_${kind}_in_progress`, `${kind}s running now`),
  existing: gauge(`ark_${kind}s`, `${kind}s in the server namespace now`)
})

type RunMetrics = ReturnType<typeof runMetrics>

export const backupMetrics = {
  ...runMetrics("backup", "items written to the tarballs of finished backups"),
  bytes: counter("ark_backup_bytes_total", "bytes of the tarballs of Completed and PartiallyFailed backups"),
  tarballSize: gauge(
    "ark_backup_tarball_size_bytes",
    "size of the tarball of the last Completed or PartiallyFailed backup, in bytes"
  ),
  lastSuccessfulTimestamp: gauge(
    "ark_backup_last_successful_timestamp",
    "when the last Completed backup finished, in seconds since the epoch"
  ),
  lastStatus: gauge(
    "ark_backup_last_status",
    "1 when the last backup ended Completed, 0 when it ended PartiallyFailed, Failed or FailedValidation"
  ),
  lastItems: gauge("ark_backup_last_items", "items written to the tarball of the last finished backup"),
  lastErrors: gauge("ark_backup_last_errors", "errors the last finished backup reported"),
  warnings: counter("ark_backup_warning_total", "backups that finished with at least one warning")
}

export const deletionMetrics = {
  attempts: counter(
    "ark_backup_deletion_attempt_total",
    "attempts at deleting a backup that exists (each retry of an unfinished deletion counts)"
  ),
  successes: counter(
    "ark_backup_deletion_success_total",
    "deletion attempts that removed the backup's files, snapshots, restores and resource"
  ),
  failures: counter("ark_backup_deletion_failure_total", "deletion attempts refused or left unfinished")
}

export const volumeSnapshotMetrics = {
  attempts: counter("ark_volume_snapshot_attempt_total", "volume snapshots finished backups attempted"),
  successes: counter("ark_volume_snapshot_success_total", "volume snapshots finished backups completed"),
  failures: counter(
    "ark_volume_snapshot_failure_total",
    "volume snapshots finished backups attempted and did not complete"
  )
}

/** Labelled `backup_location_name`, as in Velero. */
export const locationAvailable = gauge(
  "ark_backup_location_available",
  "1 when the last check of the backup storage location reached it, 0 when it did not"
)

export const restoreMetrics = {
  ...runMetrics("restore", "items restored by finished restores"),
  /** Another series without `schedule`. */
  concurrency: gauge(
    "ark_restore_concurrency",
    "items the last finished restore had in flight at once when it ended (its AIMD window)"
  )
}

const bySchedule = (schedule: string) => <T, I, O>(metric: Metric.Metric<T, I, O>) =>
  Metric.tagged(metric, "schedule", schedule)

export const backupSchedule = (backup: KubeObject): string => nameOf(backup, scheduleNameLabel) ?? ""

export const restoreSchedule = (restore: KubeObject): string => {
  const spec = restore["spec"]
  const name = typeof spec === "object" && spec !== null
    ? (spec as { readonly scheduleName?: unknown }).scheduleName
    : undefined
  return typeof name === "string" ? name : ""
}

const outcomeOf = (metrics: RunMetrics, phase: string | undefined) => {
  switch (phase) {
    case "Completed":
      return metrics.successes
    case "PartiallyFailed":
      return metrics.partialFailures
    case "Failed":
      return metrics.failures
    case "FailedValidation":
      return metrics.validationFailures
    default:
      return undefined
  }
}

interface Finished {
  readonly status?: { readonly phase?: string | undefined } | undefined
}

type Tag = ReturnType<typeof bySchedule>

/**
 * One run, start to final phase: an attempt, one more in progress while it runs, then its duration
 * and the counter of its phase. A run that fails or is interrupted instead counts as Failed, as the
 * resource is then marked.
 */
const observeRun = <A>(
  metrics: RunMetrics,
  schedule: string,
  statusOf: (result: A) => Finished["status"],
  finished: (result: A, tag: Tag) => Effect.Effect<void>,
  ended: (phase: string | undefined, tag: Tag) => Effect.Effect<void> = () => Effect.void
) =>
<E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const tag = bySchedule(schedule)
  const record = (startMillis: number) => (exit: Exit.Exit<A, E>) =>
    Effect.gen(function*() {
      const seconds = ((yield* Clock.currentTimeMillis) - startMillis) / 1000
      yield* Metric.update(tag(metrics.duration), seconds)
      const phase = Exit.isSuccess(exit) ? statusOf(exit.value)?.phase : "Failed"
      const outcome = outcomeOf(metrics, phase)
      if (outcome !== undefined) yield* Metric.increment(tag(outcome))
      yield* ended(phase, tag)
      if (Exit.isSuccess(exit)) yield* finished(exit.value, tag)
    })
  return Effect.acquireUseRelease(
    Metric.increment(tag(metrics.attempts)).pipe(
      Effect.zipRight(Metric.increment(metrics.inProgress)),
      Effect.zipRight(Clock.currentTimeMillis)
    ),
    (startMillis) => run.pipe(Effect.onExit(record(startMillis))),
    () => Metric.incrementBy(metrics.inProgress, -1)
  )
}

/** Velero's `backup_last_status`: only a Completed backup is a success. */
const setLastStatus = (phase: string | undefined, tag: Tag) =>
  Metric.set(tag(backupMetrics.lastStatus), phase === "Completed" ? 1 : 0)

/** Wraps a backup's run; `tarballBytes` is read once it ended Completed or PartiallyFailed. */
export const observeBackup = (schedule: string, tarballBytes: Effect.Effect<number>) =>
  observeRun(backupMetrics, schedule, (backup: Backup) => backup.status, (backup, tag) =>
    Effect.gen(function*() {
      const status = backup.status
      const phase = status?.phase
      const items = status?.progress?.itemsBackedUp ?? 0
      yield* Metric.incrementBy(tag(backupMetrics.items), items)
      yield* Metric.set(tag(backupMetrics.lastItems), items)
      yield* Metric.set(tag(backupMetrics.lastErrors), status?.errors ?? 0)
      if ((status?.warnings ?? 0) > 0) yield* Metric.increment(tag(backupMetrics.warnings))
      const attempted = status?.volumeSnapshotsAttempted ?? 0
      const completed = status?.volumeSnapshotsCompleted ?? 0
      yield* Metric.incrementBy(tag(volumeSnapshotMetrics.attempts), attempted)
      yield* Metric.incrementBy(tag(volumeSnapshotMetrics.successes), completed)
      yield* Metric.incrementBy(tag(volumeSnapshotMetrics.failures), Math.max(0, attempted - completed))
      if (phase === "Completed" || phase === "PartiallyFailed") {
        const bytes = yield* tarballBytes
        yield* Metric.incrementBy(tag(backupMetrics.bytes), bytes)
        yield* Metric.set(tag(backupMetrics.tarballSize), bytes)
      }
      if (phase === "Completed") {
        yield* Metric.set(tag(backupMetrics.lastSuccessfulTimestamp), (yield* Clock.currentTimeMillis) / 1000)
      }
    }), setLastStatus)

export const observeRestore = (schedule: string) =>
  observeRun(
    restoreMetrics,
    schedule,
    (run: RestoreRun) => run.restore.status,
    ({ restore, window }, tag) =>
      Metric.incrementBy(tag(restoreMetrics.items), restore.status?.progress?.itemsRestored ?? 0).pipe(
        Effect.zipRight(window === undefined ? Effect.void : Metric.set(restoreMetrics.concurrency, window.size))
      )
  )

/** A Backup that failed validation before it ran: no attempt, only this and its last status. */
export const backupValidationFailed = (schedule: string) =>
  Metric.increment(bySchedule(schedule)(backupMetrics.validationFailures)).pipe(
    Effect.zipRight(setLastStatus("FailedValidation", bySchedule(schedule)))
  )

/**
 * One attempt of a DeleteBackupRequest: a backup that was not there is no attempt; a refusal (in
 * progress, its location missing or ReadOnly) or an unfinished deletion is a failure.
 */
export const recordDeletion = (schedule: string, result: DeletionResult) => {
  if (result._tag === "NotFound") return Effect.void
  const tag = bySchedule(schedule)
  return Metric.increment(tag(deletionMetrics.attempts)).pipe(
    Effect.zipRight(
      Metric.increment(tag(result._tag === "Deleted" ? deletionMetrics.successes : deletionMetrics.failures))
    )
  )
}

/** The outcome of a location's check, as the phase written to its status. */
export const recordLocationPhase = (location: string, phase: LocationPhase) =>
  Metric.set(Metric.tagged(locationAvailable, "backup_location_name", location), phase === "Available" ? 1 : 0)

/**
 * Velero's schedule_expected_interval_seconds: the time between a schedule's next two runs, for
 * alerts on a schedule whose last success is older. Kept outside Effect's registry, which cannot
 * drop a series, so a deleted schedule's series goes with it, as Velero's does. By name, as the
 * series is; the uid keeps a schedule recreated under the same name from losing its series.
 */
const expectedIntervals = new Map<string, { readonly uid: string; readonly seconds: number }>()

export const recordScheduleInterval = (schedule: string, uid: string, seconds: number) =>
  Effect.sync(() => void expectedIntervals.set(schedule, { uid, seconds }))

export const forgetScheduleInterval = (schedule: string, uid: string) =>
  Effect.sync(() => {
    if (expectedIntervals.get(schedule)?.uid === uid) expectedIntervals.delete(schedule)
  })

/** The interval family at scrape time. */
export const scheduleIntervals: Effect.Effect<MetricFamily> = Effect.sync(() =>
  simpleFamily(
    "ark_schedule_expected_interval_seconds",
    "gauge",
    "seconds between the next two backups of a valid schedule",
    [...expectedIntervals].map(([schedule, { seconds }]) => [[["schedule", schedule]], seconds])
  )
)

export const restoreValidationFailed = (schedule: string) =>
  Metric.increment(bySchedule(schedule)(restoreMetrics.validationFailures))

/**
 * The store, counting the bytes of the last complete upload to `key`: a tarball's size without
 * asking the storage afterwards. An upload started over (a revision compacted mid-way) counts once.
 */
export const countUploadedBytes = (store: ObjectStore.Shape, key: string) =>
  Effect.map(Ref.make(0), (uploaded) => {
    const put: ObjectStore.Shape["put"] = (target, body) =>
      target !== key ? store.put(target, body) : Effect.suspend(() => {
        let bytes = 0
        const counted = Stream.map(body, (chunk) => {
          bytes += chunk.byteLength
          return chunk
        })
        return store.put(target, counted).pipe(Effect.zipRight(Effect.suspend(() => Ref.set(uploaded, bytes))))
      })
    return { store: { ...store, put }, bytes: Ref.get(uploaded) }
  })

/**
 * The series of hand-made backups and restores at zero, and nothing in progress, before anything
 * runs: Prometheus then sees a first failure as an increase rather than a new series.
 */
export const registerSeries: Effect.Effect<void> = Effect.gen(function*() {
  const manual = bySchedule("")
  for (const metrics of [backupMetrics, restoreMetrics]) {
    for (
      const metric of [
        metrics.attempts,
        metrics.successes,
        metrics.partialFailures,
        metrics.failures,
        metrics.validationFailures,
        metrics.items
      ]
    ) {
      yield* Metric.value(manual(metric))
    }
    yield* Metric.value(manual(metrics.duration))
    yield* Metric.value(metrics.inProgress)
  }
  for (
    const metric of [
      backupMetrics.bytes,
      backupMetrics.warnings,
      deletionMetrics.attempts,
      deletionMetrics.successes,
      deletionMetrics.failures,
      volumeSnapshotMetrics.attempts,
      volumeSnapshotMetrics.successes,
      volumeSnapshotMetrics.failures
    ]
  ) {
    yield* Metric.value(manual(metric))
  }
})
