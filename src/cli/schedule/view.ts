// How schedules look in the terminal: the `get` table and `describe`. Pure.
import { DateTime, Duration, Either, Option } from "effect"

import type { Backup, Schedule, SchedulePhase } from "../../api/index.ts"
import { parseGoDuration, toTimestamp } from "../../api/index.ts"
import { nextRun, parseSchedule } from "../../schedule/cron.ts"
import { selectorSummary } from "../backup/view.ts"
import { formatTime, listOrNone, mapOrNone, renderTable, timeFromNow } from "../render.ts"

const phaseOf = (schedule: Schedule): SchedulePhase => schedule.status?.phase ?? "New"

const isPaused = (schedule: Schedule) => schedule.spec.paused === true

const templateSelector = (schedule: Schedule) => selectorSummary(schedule.spec.template)

/** Velero's LAST BACKUP column: `3h ago`, or `n/a` before the first. */
const lastBackupAge = (schedule: Schedule, now: DateTime.Utc) =>
  schedule.status?.lastBackup === undefined ? "n/a" : timeFromNow(schedule.status.lastBackup, now)

export const scheduleTableHeaders = [
  "NAME",
  "STATUS",
  "CREATED",
  "SCHEDULE",
  "BACKUP TTL",
  "LAST BACKUP",
  "SELECTOR",
  "PAUSED"
] as const

export const scheduleRow = (schedule: Schedule, now: DateTime.Utc): ReadonlyArray<string> => [
  schedule.metadata.name ?? "",
  phaseOf(schedule),
  formatTime(schedule.metadata.creationTimestamp),
  schedule.spec.schedule,
  schedule.spec.template.ttl,
  lastBackupAge(schedule, now),
  templateSelector(schedule),
  String(isPaused(schedule))
]

export const scheduleTable = (schedules: ReadonlyArray<Schedule>, now: DateTime.Utc): string =>
  renderTable(scheduleTableHeaders, schedules.map((schedule) => scheduleRow(schedule, now)))

const timeOf = (text: string | undefined) => Option.flatMap(Option.fromNullable(text), (value) => DateTime.make(value))

/** The later of the last backup and the last skip (skipImmediately): the next run is the cron's next time after it. */
const lastRunOrSkip = (schedule: Schedule) => {
  const backup = timeOf(schedule.status?.lastBackup)
  const skip = timeOf(schedule.status?.lastSkipped)
  return Option.isSome(skip) &&
      Option.match(backup, { onNone: () => true, onSome: (b) => DateTime.lessThan(b, skip.value) })
    ? skip
    : backup
}

/** When the server will create the next backup, as far as the resource tells. */
export const nextBackupText = (schedule: Schedule, now: DateTime.Utc): string => {
  if (phaseOf(schedule) === "FailedValidation") return "<none: the schedule failed validation>"
  if (isPaused(schedule)) return "<none: paused>"
  return Either.match(parseSchedule(schedule.spec.schedule), {
    onLeft: (reason) => `<none: invalid schedule: ${reason}>`,
    onRight: (cron) =>
      Option.match(lastRunOrSkip(schedule), {
        onNone: () =>
          schedule.spec.skipImmediately === true
            ? "at the schedule's first time after the Ark server sees it"
            : "as soon as the Ark server sees the schedule",
        onSome: (last) => {
          const next = toTimestamp(DateTime.unsafeMake(nextRun(cron, DateTime.toEpochMillis(last))))
          return `${formatTime(next)} (${timeFromNow(next, now)})`
        }
      })
  })
}

const clusterScope = (value: boolean | undefined) => (value === undefined ? "auto" : value ? "included" : "excluded")

const ttlText = (ttl: string) =>
  Option.match(parseGoDuration(ttl), {
    onNone: () => ttl,
    onSome: (duration) => `${ttl} (${Duration.format(duration)})`
  })

const lastBackupLines = (
  schedule: Schedule,
  now: DateTime.Utc,
  backups: ReadonlyArray<Backup>
): ReadonlyArray<string> => {
  const last = schedule.status?.lastBackup
  const newest = backups[0]
  return [
    `Last Backup:  ${last === undefined ? "<never>" : `${formatTime(last)} (${timeFromNow(last, now)})`}`,
    `Next Backup:  ${nextBackupText(schedule, now)}`,
    "",
    `Backups:  ${backups.length}` +
    (newest === undefined ? "" : ` (newest: ${newest.metadata.name ?? ""}, ${newest.status?.phase ?? "New"})`)
  ]
}

/** `ark schedule describe`: Velero's layout, plus the newest of the schedule's backups. */
export const describeSchedule = (schedule: Schedule, now: DateTime.Utc, backups: ReadonlyArray<Backup>): string => {
  const template = schedule.spec.template
  const problems = schedule.status?.validationErrors ?? []
  const hooks = template.hooks?.resources ?? []
  return [
    `Name:         ${schedule.metadata.name ?? ""}`,
    `Namespace:    ${schedule.metadata.namespace ?? ""}`,
    `Labels:       ${mapOrNone(schedule.metadata.labels)}`,
    `Annotations:  ${mapOrNone(schedule.metadata.annotations)}`,
    "",
    `Phase:  ${phaseOf(schedule)}`,
    ...(problems.length > 0 ? ["", "Validation errors:", ...problems.map((problem) => `  - ${problem}`)] : []),
    "",
    `Paused:  ${isPaused(schedule)}`,
    "",
    `Schedule:  ${schedule.spec.schedule} (UTC)`,
    "",
    "Backup Template:",
    "  Namespaces:",
    `    Included:  ${listOrNone(template.includedNamespaces)}`,
    `    Excluded:  ${listOrNone(template.excludedNamespaces)}`,
    "",
    "  Resources:",
    `    Included:        ${listOrNone(template.includedResources)}`,
    `    Excluded:        ${listOrNone(template.excludedResources)}`,
    `    Cluster-scoped:  ${clusterScope(template.includeClusterResources)}`,
    "",
    `  Label selector:  ${templateSelector(schedule)}`,
    "",
    `  Storage Location:           ${template.storageLocation}`,
    `  Volume Snapshot Locations:  ${listOrNone(template.volumeSnapshotLocations)}`,
    `  Snapshot PVs:               ${template.snapshotVolumes}`,
    `  TTL:                        ${ttlText(template.ttl)}`,
    `  Hooks:                      ${hooks.length === 0 ? "<none>" : hooks.map((hook) => hook.name).join(", ")}`,
    "",
    `Created:  ${formatTime(schedule.metadata.creationTimestamp)}`,
    "",
    ...lastBackupLines(schedule, now, backups)
  ].join("\n")
}
