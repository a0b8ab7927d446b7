// The Backup a schedule creates at a tick (docs/design.md, "Names and labels"): named
// `<schedule>-<YYYYMMDDhhmmss>` (UTC), its spec the schedule's template, carrying the schedule's
// own labels and annotations (as Velero's do) and labelled with the schedule's name. Pure.
import { DateTime } from "effect"

import type { Backup, Schedule } from "../api/index.ts"
import { apiVersion, scheduleMarkers, withMarkers } from "../api/index.ts"

/** `YYYYMMDDhhmmss` of an instant, in UTC. */
export const nameTimestamp = (millis: number): string =>
  DateTime.formatIso(DateTime.unsafeMake(millis)).replace(/\.[0-9]+Z$|Z$/, "").replace(/[-:T]/g, "")

export const scheduledBackupName = (schedule: string, millis: number): string => `${schedule}-${nameTimestamp(millis)}`

/** The tick a backup of `schedule` was created for, read back from its name; undefined for any other name. */
export const tickOfScheduledBackup = (schedule: string, backupName: string): number | undefined => {
  if (!backupName.startsWith(`${schedule}-`)) return undefined
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(backupName.slice(schedule.length + 1))
  if (match === null) return undefined
  const [, year, month, day, hour, minute, second] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const millis = Date.UTC(year, month - 1, day, hour, minute, second)
  // Round-trips only for a real date (no month 13, no 25:00).
  return nameTimestamp(millis) === backupName.slice(schedule.length + 1) ? millis : undefined
}

/**
 * A Backup named `name` of `schedule`: its template, the schedule's labels and annotations (`ark
 * schedule create --labels/--annotations`), and the schedule's name markers, which win on a clash.
 */
export const backupOfSchedule = (schedule: Schedule, name: string, namespace: string): Backup => {
  const { annotations, labels } = schedule.metadata
  return {
    apiVersion,
    kind: "Backup",
    metadata: withMarkers(
      {
        name,
        namespace,
        ...(labels === undefined ? {} : { labels }),
        ...(annotations === undefined ? {} : { annotations })
      },
      scheduleMarkers(schedule.metadata.name ?? "")
    ),
    spec: schedule.spec.template
  }
}

/** The Backup `schedule` creates at `millis`, in the server namespace. */
export const scheduledBackup = (schedule: Schedule, namespace: string, millis: number): Backup =>
  backupOfSchedule(schedule, scheduledBackupName(schedule.metadata.name ?? "", millis), namespace)
