// The Backup a schedule creates at a tick (SPEC section 1): named `<schedule>-<YYYYMMDDhhmmss>`
// (UTC), its spec the schedule's template, labelled with the schedule's name. Pure.
import { DateTime } from "effect"
import type { Backup, Schedule } from "../api/index.ts"
import { apiVersion, legacyScheduleNameLabel, scheduleNameLabel } from "../api/index.ts"

/** `YYYYMMDDhhmmss` of an instant, in UTC. */
export const nameTimestamp = (millis: number): string =>
  DateTime.formatIso(DateTime.unsafeMake(millis)).replace(/\.[0-9]+Z$|Z$/, "").replace(/[-:T]/g, "")

export const scheduledBackupName = (schedule: string, millis: number): string => `${schedule}-${nameTimestamp(millis)}`

/** Both labels: Ark's, and Ark 0.x's so older tooling still finds a schedule's backups. */
export const scheduleLabels = (schedule: string): Readonly<Record<string, string>> => ({
  [scheduleNameLabel]: schedule,
  [legacyScheduleNameLabel]: schedule
})

/** The Backup `schedule` creates at `millis`, in the server namespace. */
export const scheduledBackup = (schedule: Schedule, namespace: string, millis: number): Backup => {
  const name = schedule.metadata.name ?? ""
  return {
    apiVersion,
    kind: "Backup",
    metadata: { name: scheduledBackupName(name, millis), namespace, labels: scheduleLabels(name) },
    spec: schedule.spec.template
  }
}
