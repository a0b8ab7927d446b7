// How backups look in the terminal: the `get` table, `describe`, and `--wait` progress. Pure.
import { DateTime, Duration, Either, Option } from "effect"

import type { Backup, BackupPhase, LabelSelector } from "../../api/index.ts"
import { parseGoDuration, toTimestamp } from "../../api/index.ts"
import { labelSelectorToString } from "../../kube/labelSelector.ts"
import { formatTime, listOrNone, mapOrNone, renderTable, timeFromNow } from "../render.ts"
import type { ResourceList } from "./storage.ts"

/** Phases after which a backup changes no more (Deleting ends it too, from `--wait`'s point of view). */
export const isFinished = (phase: BackupPhase | undefined): boolean =>
  phase !== undefined && phase !== "New" && phase !== "InProgress"

const phaseOf = (backup: Backup): BackupPhase => backup.status?.phase ?? "New"

const selectorText = (selector: LabelSelector): string =>
  Either.getOrElse(labelSelectorToString(selector), () => JSON.stringify(selector)) || "<all>"

/** Velero's SELECTOR column of a backup, schedule or restore: the label selector, the OR of several, or `<none>`. */
export const selectorSummary = (spec: {
  readonly labelSelector?: LabelSelector | undefined
  readonly orLabelSelectors?: ReadonlyArray<LabelSelector> | undefined
}): string => {
  if (spec.labelSelector !== undefined) return selectorText(spec.labelSelector)
  const anyOf = spec.orLabelSelectors ?? []
  return anyOf.length > 0 ? anyOf.map((selector) => selectorText(selector)).join(" or ") : "<none>"
}

/** `status.expiration`, or, before the backup has finished, creation time + ttl (as Velero shows it). */
export const expirationOf = (backup: Backup): string | undefined => {
  if (backup.status?.expiration !== undefined) return backup.status.expiration
  const created = Option.flatMap(Option.fromNullable(backup.metadata.creationTimestamp), (text) => DateTime.make(text))
  const ttl = parseGoDuration(backup.spec.ttl)
  return Option.getOrUndefined(
    Option.zipWith(created, ttl, (time, duration) => toTimestamp(DateTime.addDuration(time, duration)))
  )
}

export const backupTableHeaders = ["NAME", "STATUS", "CREATED", "EXPIRES", "STORAGE LOCATION", "SELECTOR"] as const

export const backupRow = (backup: Backup, now: DateTime.Utc): ReadonlyArray<string> => [
  backup.metadata.name ?? "",
  phaseOf(backup),
  formatTime(backup.metadata.creationTimestamp),
  timeFromNow(expirationOf(backup), now),
  backup.spec.storageLocation,
  selectorSummary(backup.spec)
]

export const backupTable = (backups: ReadonlyArray<Backup>, now: DateTime.Utc): string =>
  renderTable(backupTableHeaders, backups.map((backup) => backupRow(backup, now)))

/** One line of `--wait` progress: what the backup is doing now. */
export const progressLine = (backup: Backup): string => {
  const phase = phaseOf(backup)
  if (phase === "New") return "phase New: waiting for the Ark server to start the backup"
  const progress = backup.status?.progress
  const done = progress?.itemsBackedUp ?? 0
  // The server sets totalItems only once every list is read: until then the total is not known.
  if (phase === "InProgress") {
    return progress?.totalItems === undefined
      ? `items backed up: ${done} (total not known yet)`
      : `items backed up: ${done}/${progress.totalItems}`
  }
  return `phase ${phase}: ${done} items backed up`
}

/** The last line of `--wait`: the phase and the counts that matter for it. */
export const outcomeLine = (backup: Backup): string => {
  const name = backup.metadata.name ?? ""
  const status = backup.status
  const counts = `${status?.progress?.itemsBackedUp ?? 0} items, ${status?.warnings ?? 0} warnings, ${
    status?.errors ?? 0
  } errors`
  const phase = phaseOf(backup)
  switch (phase) {
    case "FailedValidation":
      return `Backup "${name}" failed validation:\n${
        (status?.validationErrors ?? []).map((problem) => `  - ${problem}`).join("\n")
      }`
    case "Failed":
      return `Backup "${name}" Failed${
        status?.failureReason === undefined ? "" : `: ${status.failureReason}`
      } (${counts})`
    default:
      return `Backup "${name}" ${phase} (${counts})`
  }
}

const clusterScope = (value: boolean | undefined) => (value === undefined ? "auto" : value ? "included" : "excluded")

const ttlText = (ttl: string) =>
  Option.match(parseGoDuration(ttl), {
    onNone: () => ttl,
    onSome: (duration) => `${ttl} (${Duration.format(duration)})`
  })

/** `ark backup describe`: Velero's layout; the resource list only with `--details`. */
export const describeBackup = (
  backup: Backup,
  now: DateTime.Utc,
  details: Option.Option<Either.Either<ResourceList, string>>
): string => {
  const { spec, status } = backup
  const hooks = spec.hooks?.resources ?? []
  const lines = [
    `Name:         ${backup.metadata.name ?? ""}`,
    `Namespace:    ${backup.metadata.namespace ?? ""}`,
    `Labels:       ${mapOrNone(backup.metadata.labels)}`,
    `Annotations:  ${mapOrNone(backup.metadata.annotations)}`,
    "",
    `Phase:  ${phaseOf(backup)}`,
    ...(status?.validationErrors !== undefined && status.validationErrors.length > 0
      ? ["", "Validation errors:", ...status.validationErrors.map((problem) => `  - ${problem}`)]
      : []),
    ...(status?.failureReason === undefined ? [] : [`Failure reason:  ${status.failureReason}`]),
    "",
    "Namespaces:",
    `  Included:  ${listOrNone(spec.includedNamespaces)}`,
    `  Excluded:  ${listOrNone(spec.excludedNamespaces)}`,
    "",
    "Resources:",
    `  Included:        ${listOrNone(spec.includedResources)}`,
    `  Excluded:        ${listOrNone(spec.excludedResources)}`,
    `  Cluster-scoped:  ${clusterScope(spec.includeClusterResources)}`,
    "",
    `Label selector:  ${selectorSummary(backup.spec)}`,
    "",
    `Storage Location:           ${spec.storageLocation}`,
    `Volume Snapshot Locations:  ${listOrNone(spec.volumeSnapshotLocations)}`,
    `Snapshot PVs:               ${spec.snapshotVolumes}`,
    `TTL:                        ${ttlText(spec.ttl)}`,
    `Hooks:                      ${hooks.length === 0 ? "<none>" : hooks.map((hook) => hook.name).join(", ")}`,
    ...(spec.orderedResources === undefined
      ? []
      : [
        "",
        "Ordered resources:",
        ...Object.entries(spec.orderedResources).map(([resource, names]) => `  ${resource}: ${names}`)
      ]),
    "",
    `Created:     ${formatTime(backup.metadata.creationTimestamp)}`,
    `Started:     ${formatTime(status?.startTimestamp)}`,
    `Completed:   ${formatTime(status?.completionTimestamp)}`,
    `Expiration:  ${formatTime(expirationOf(backup))} (${timeFromNow(expirationOf(backup), now)})`,
    ...(status?.retention === undefined ? [] : [
      `Retained:    ${formatTime(status.retention.retainUntil)} (${
        timeFromNow(status.retention.retainUntil, now)
      }; S3 Object Lock, mode ${status.retention.mode})`
    ]),
    "",
    `Items backed up:   ${status?.progress?.itemsBackedUp ?? 0} of ${status?.progress?.totalItems ?? "?"}`,
    `Resource version:  ${status?.resourceVersion ?? "<n/a>"} (consistency: ${status?.consistency ?? "<n/a>"})`,
    `Warnings:          ${status?.warnings ?? 0}`,
    `Errors:            ${status?.errors ?? 0}`,
    `Volume snapshots:  ${status?.volumeSnapshotsCompleted ?? 0} of ${status?.volumeSnapshotsAttempted ?? 0} completed`,
    `Format version:    ${status?.formatVersion ?? "<n/a>"}`,
    "",
    ...resourceListLines(details)
  ]
  return lines.join("\n")
}

const resourceListLines = (details: Option.Option<Either.Either<ResourceList, string>>): ReadonlyArray<string> =>
  Option.match(details, {
    onNone: () => ["Resource List:  <use --details to list the backed-up objects>"],
    onSome: Either.match({
      onLeft: (reason) => [`Resource List:  <not available: ${reason}>`],
      onRight: (list) => {
        const types = Object.keys(list).sort()
        if (types.length === 0) return ["Resource List:  <none>"]
        return [
          "Resource List:",
          ...types.flatMap((type) => [`  ${type}:`, ...(list[type] ?? []).map((item) => `    - ${item}`)])
        ]
      }
    })
  })
