// Ark's metrics (docs/design.md, "Server guarantees"), defined once for the process: Effect's
// metric registry is global, so the controllers record into these series and /metrics renders them
// (src/server/prometheus.ts).
// As in Velero, every backup and restore series carries `schedule`: the backup's
// `ark.heptio.com/schedule-name` label, the restore's spec.scheduleName, "" when made by hand.
import { Clock, Effect, Exit, Metric, MetricBoundaries, Ref, Stream } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup } from "../api/index.ts"
import { nameOf, scheduleNameLabel } from "../api/index.ts"
import type { RestoreRun } from "../restore/run.ts"

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })

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
  /** The only series without `schedule`. */
  inProgress: Metric.gauge(`ark_${kind}_in_progress`, { description: `${kind}s running now` })
})

type RunMetrics = ReturnType<typeof runMetrics>

export const backupMetrics = {
  ...runMetrics("backup", "items written to the tarballs of finished backups"),
  bytes: counter("ark_backup_bytes_total", "bytes of the tarballs of Completed and PartiallyFailed backups"),
  lastSuccessfulTimestamp: Metric.gauge("ark_backup_last_successful_timestamp", {
    description: "when the last Completed backup finished, in seconds since the epoch"
  })
}

export const restoreMetrics = {
  ...runMetrics("restore", "items restored by finished restores"),
  /** The only other series without `schedule`. */
  concurrency: Metric.gauge("ark_restore_concurrency", {
    description: "items the last finished restore had in flight at once when it ended (its AIMD window)"
  })
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

/**
 * One run, start to final phase: an attempt, one more in progress while it runs, then its duration
 * and the counter of its phase. A run that fails or is interrupted instead counts as Failed, as the
 * resource is then marked.
 */
const observeRun = <A>(
  metrics: RunMetrics,
  schedule: string,
  statusOf: (result: A) => Finished["status"],
  finished: (result: A, tag: ReturnType<typeof bySchedule>) => Effect.Effect<void>
) =>
<E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const tag = bySchedule(schedule)
  const ended = (startMillis: number) => (exit: Exit.Exit<A, E>) =>
    Effect.gen(function*() {
      const seconds = ((yield* Clock.currentTimeMillis) - startMillis) / 1000
      yield* Metric.update(tag(metrics.duration), seconds)
      const outcome = outcomeOf(metrics, Exit.isSuccess(exit) ? statusOf(exit.value)?.phase : "Failed")
      if (outcome !== undefined) yield* Metric.increment(tag(outcome))
      if (Exit.isSuccess(exit)) yield* finished(exit.value, tag)
    })
  return Effect.acquireUseRelease(
    Metric.increment(tag(metrics.attempts)).pipe(
      Effect.zipRight(Metric.increment(metrics.inProgress)),
      Effect.zipRight(Clock.currentTimeMillis)
    ),
    (startMillis) => run.pipe(Effect.onExit(ended(startMillis))),
    () => Metric.incrementBy(metrics.inProgress, -1)
  )
}

/** Wraps a backup's run; `tarballBytes` is read once it ended Completed or PartiallyFailed. */
export const observeBackup = (schedule: string, tarballBytes: Effect.Effect<number>) =>
  observeRun(backupMetrics, schedule, (backup: Backup) => backup.status, (backup, tag) =>
    Effect.gen(function*() {
      const phase = backup.status?.phase
      yield* Metric.incrementBy(tag(backupMetrics.items), backup.status?.progress?.itemsBackedUp ?? 0)
      if (phase === "Completed" || phase === "PartiallyFailed") {
        yield* Metric.incrementBy(tag(backupMetrics.bytes), yield* tarballBytes)
      }
      if (phase === "Completed") {
        yield* Metric.set(tag(backupMetrics.lastSuccessfulTimestamp), (yield* Clock.currentTimeMillis) / 1000)
      }
    }))

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

/** A Backup that failed validation before it ran: no attempt, only this. */
export const backupValidationFailed = (schedule: string) =>
  Metric.increment(bySchedule(schedule)(backupMetrics.validationFailures))

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
  yield* Metric.value(manual(backupMetrics.bytes))
})
