// The schedule controller: one supervised fiber per Schedule (keyed by uid) creates its backups
// when they are due. The fiber re-reads its Schedule whenever a newer version arrives and at least
// every sync period, so pause, unpause and edits take effect at once. Status: New → Enabled | FailedValidation.
import {
  Cause,
  Clock,
  DateTime,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  Schedule as Retry,
  Schema,
  Stream
} from "effect"

import type { GroupVersionResource, KubeObject } from "../../../services/KubeClient.ts"
import { KubeClient } from "../../../services/KubeClient.ts"
import type { Schedule } from "../../api/index.ts"
import {
  Backup,
  group,
  kinds,
  nameSelector,
  namesIt,
  scheduleNameLabel,
  toTimestamp,
  version
} from "../../api/index.ts"
import { deepEqual } from "../../kube/json.ts"
import { scheduledBackup, tickOfScheduledBackup } from "../../schedule/backup.ts"
import { nextRun } from "../../schedule/cron.ts"
import { validateSchedule } from "../../schedule/validate.ts"
import { forgetScheduleInterval, recordScheduleInterval } from "../metrics.ts"
import type { ReconcileContext } from "../supervisor.ts"
import { supervise } from "../supervisor.ts"

export const schedulesGvr: GroupVersionResource = { group, version, resource: kinds.Schedule.plural }
const backupsGvr: GroupVersionResource = { group, version, resource: kinds.Backup.plural }

export interface ScheduleControllerConfig {
  readonly namespace: string
  /** The longest a Schedule goes unread (`--schedule-sync-period`): pauses and edits apply within it. */
  readonly syncPeriod: Duration.DurationInput
}

const statusOf = (object: KubeObject): Record<string, unknown> => {
  const status = object["status"]
  return typeof status === "object" && status !== null ? status as Record<string, unknown> : {}
}

const sameProblems = (object: KubeObject, problems: ReadonlyArray<string>) => {
  const status = statusOf(object)
  return status["phase"] === "FailedValidation" && deepEqual(status["validationErrors"], problems)
}

const parseTimestamp = (text: string | undefined): Option.Option<number> =>
  Option.fromNullable(text).pipe(
    Option.flatMap((value) => DateTime.make(value)),
    Option.map((time) => DateTime.toEpochMillis(time))
  )

/** Whole seconds: the precision of backup names and of status.lastBackup. */
const toSecond = (millis: number) => Math.floor(millis / 1000) * 1000

const stamp = (millis: number) => toTimestamp(DateTime.unsafeMake(millis))

export const make = (config: ScheduleControllerConfig) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { namespace } = config
    const syncPeriod = Duration.decode(config.syncPeriod)
    // A failing round (API server down, a bug) is retried; it never stops the schedule for good.
    const retry = Retry.exponential(Duration.seconds(1)).pipe(Retry.union(Retry.spaced(syncPeriod)))

    const patchStatus = (name: string, status: Record<string, unknown>) =>
      kube.patchStatus(schedulesGvr, name, { type: "merge", body: { status } }, namespace)

    /** Creates the schedule's backup for `tick`; one that exists already (a retried round) counts as created. */
    const createBackup = Effect.fn("ScheduleController.createBackup")(function*(schedule: Schedule, tick: number) {
      const backup = scheduledBackup(schedule, namespace, tick)
      const name = backup.metadata.name ?? ""
      // The template was decoded from the Schedule, so it encodes back.
      const encoded = yield* Schema.encode(Backup)(backup).pipe(Effect.orDie)
      yield* kube.create(backupsGvr, encoded).pipe(
        Effect.zipRight(Effect.logInfo(`created backup ${name}`)),
        Effect.catchTag("KubeAlreadyExists", () => Effect.logInfo(`backup ${name} already exists`))
      )
    })

    /**
     * The tick of the newest backup this Schedule created, by label and name; backups from before
     * it was created belong to an earlier Schedule of the same name.
     */
    const newestScheduledTick = (name: string, createdAt: Option.Option<number>) =>
      Stream.runCollect(
        kube.listPages(backupsGvr, { namespace, labelSelector: nameSelector(scheduleNameLabel, name), limit: 500 })
      ).pipe(
        Effect.map((pages) => {
          const items = [...pages].flatMap((page) => page.items)
          const ticks = items.filter((backup) => namesIt(backup, scheduleNameLabel, name)).flatMap((backup) => {
            const tick = tickOfScheduledBackup(name, backup.metadata.name ?? "")
            return tick === undefined || tick < Option.getOrElse(createdAt, () => -Infinity) ? [] : [tick]
          })
          return ticks.length === 0 ? Option.none<number>() : Option.some(Math.max(...ticks))
        })
      )

    /** Runs the Schedule until it is deleted or fails validation; exports its expected interval while it runs. */
    const follow = (uid: string, name: string, changed: ReconcileContext["changed"]) =>
      Effect.gen(function*() {
        // The last backup this fiber created, in case recording it in status.lastBackup failed.
        // Before its first run, a fiber looks for one an earlier server created but never recorded
        // (it crashed in between), so a restart does not take an extra backup.
        let created = Option.none<number>()
        let lookedForUnrecorded = false

        /** One look at the Schedule: how long to sleep before the next, or None to stop. */
        const round = Effect.gen(function*() {
          const object = yield* kube.get(schedulesGvr, name, namespace).pipe(
            Effect.map((found) => Option.some(found)),
            Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.none<KubeObject>()))
          )
          if (Option.isNone(object) || object.value.metadata.uid !== uid) return Option.none<Duration.Duration>()
          const validated = validateSchedule(object.value)
          if (Either.isLeft(validated)) {
            const problems = validated.left
            if (!sameProblems(object.value, problems)) {
              yield* patchStatus(name, { phase: "FailedValidation", validationErrors: problems })
              yield* Effect.logInfo(`schedule failed validation: ${problems.join("; ")}`)
            }
            return Option.none<Duration.Duration>()
          }
          const { cron, schedule } = validated.right
          if (schedule.status?.phase !== "Enabled" || schedule.status.validationErrors !== undefined) {
            yield* patchStatus(name, { phase: "Enabled", validationErrors: null })
          }
          const now = yield* Clock.currentTimeMillis
          const next = nextRun(cron, now)
          yield* recordScheduleInterval(name, uid, (nextRun(cron, next) - next) / 1000)
          if (schedule.spec.paused === true) return Option.some(syncPeriod)

          // Velero's skipImmediately: the backup due now is skipped once, recorded in status.lastSkipped.
          let skipped = parseTimestamp(schedule.status?.lastSkipped)
          if (schedule.spec.skipImmediately === true) {
            const at = toSecond(now)
            skipped = Option.some(at)
            yield* patchStatus(name, { lastSkipped: stamp(at) })
            yield* kube.patch(
              schedulesGvr,
              name,
              { type: "merge", body: { spec: { skipImmediately: false } } },
              namespace
            )
            yield* Effect.logInfo("skipped the backup due at once (spec.skipImmediately)")
          }
          const recorded = parseTimestamp(schedule.status?.lastBackup)
          if (!lookedForUnrecorded) {
            created = yield* newestScheduledTick(
              name,
              Option.map(parseTimestamp(schedule.metadata.creationTimestamp), toSecond)
            )
            lookedForUnrecorded = true
          }
          // A backup this fiber made that status.lastBackup does not show yet (its patch failed).
          const unrecorded = Option.filter(created, (tick) => Option.getOrElse(recorded, () => -Infinity) < tick)
          if (Option.isSome(unrecorded)) yield* patchStatus(name, { lastBackup: stamp(unrecorded.value) })
          const lastBackup = Option.orElse(unrecorded, () => recorded)
          const last = Option.isSome(skipped) && Option.getOrElse(lastBackup, () => -Infinity) < skipped.value
            ? skipped
            : lastBackup
          // The first backup runs at once; after downtime, one catch-up backup, not one per missed tick.
          let due = Option.match(last, { onNone: () => now, onSome: (millis) => nextRun(cron, millis) })
          if (due <= now) {
            const tick = toSecond(now)
            yield* createBackup(schedule, tick)
            created = Option.some(tick)
            yield* patchStatus(name, { lastBackup: stamp(tick) })
            due = nextRun(cron, tick)
          }
          return Option.some(Duration.min(Duration.millis(Math.max(due - now, 0)), syncPeriod))
        })

        const guarded = round.pipe(
          Effect.tapErrorCause((cause) =>
            Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logWarning("schedule round failed; retrying", cause)
          ),
          Effect.sandbox,
          Effect.retry({ schedule: retry, while: (cause) => !Cause.isInterruptedOnly(cause) }),
          Effect.unsandbox
        )
        while (true) {
          const wait = yield* guarded
          if (Option.isNone(wait)) return
          // An edit wakes the fiber early: it re-reads the Schedule and works out the next run again.
          yield* Effect.race(Effect.sleep(wait.value), changed)
        }
      }).pipe(
        // However the fiber ends (deleted, invalid, interrupted), no backup is expected from it any more.
        Effect.ensuring(forgetScheduleInterval(name, uid))
      )

    const reconcile = (object: KubeObject, context: ReconcileContext) => {
      const { name, uid } = object.metadata
      if (name === undefined || uid === undefined) return Option.none()
      // A schedule that failed validation stays stopped until an edit changes its problems.
      const validated = validateSchedule(object)
      if (Either.isLeft(validated) && sameProblems(object, validated.left)) return Option.none()
      return Option.some(follow(uid, name, context.changed))
    }

    return yield* supervise({
      name: "schedule",
      gvr: schedulesGvr,
      namespace,
      concurrency: 1,
      reconcile,
      // Rounds retry every failure themselves; only interruption ends a fiber, and that is not recorded.
      onFailure: () => Effect.void
    })
  })

export const layer = (config: ScheduleControllerConfig): Layer.Layer<never, never, KubeClient> =>
  Layer.scopedDiscard(Effect.forkScoped(make(config)))
