// How restores look in the terminal: the `get` table, `describe`, `--wait` progress and the
// `--dry-run` plan. Pure.
import { Either, Option } from "effect"

import type { Restore, RestoreOutcomes, RestorePhase } from "../../api/index.ts"
import type { ItemResult, Outcome } from "../../restore/outcomes.ts"
import type { DryRunEntry } from "../../restore/run.ts"
import { selectorSummary } from "../backup/view.ts"
import { formatTime, listOrNone, mapOrNone, renderTable } from "../render.ts"

/** Phases after which a restore changes no more. */
export const isFinished = (phase: RestorePhase | undefined): boolean =>
  phase !== undefined && phase !== "New" && phase !== "InProgress"

const phaseOf = (restore: Restore): RestorePhase => restore.status?.phase ?? "New"

/** The backup a restore reads, or the schedule whose latest it will read. */
const sourceOf = (restore: Restore): string =>
  restore.spec.backupName ??
    (restore.spec.scheduleName === undefined ? "" : `<latest of schedule ${restore.spec.scheduleName}>`)

export const restoreTableHeaders = [
  "NAME",
  "BACKUP",
  "STATUS",
  "STARTED",
  "COMPLETED",
  "ERRORS",
  "WARNINGS",
  "CREATED",
  "SELECTOR"
] as const

export const restoreRow = (restore: Restore): ReadonlyArray<string> => [
  restore.metadata.name ?? "",
  sourceOf(restore),
  phaseOf(restore),
  formatTime(restore.status?.startTimestamp),
  formatTime(restore.status?.completionTimestamp),
  String(restore.status?.errors ?? 0),
  String(restore.status?.warnings ?? 0),
  formatTime(restore.metadata.creationTimestamp),
  selectorSummary(restore.spec)
]

export const restoreTable = (restores: ReadonlyArray<Restore>): string =>
  renderTable(restoreTableHeaders, restores.map((restore) => restoreRow(restore)))

/** One line of `--wait` progress: what the restore is doing now. */
export const progressLine = (restore: Restore): string => {
  const phase = phaseOf(restore)
  if (phase === "New") return "phase New: waiting for the Ark server to start the restore"
  const progress = restore.status?.progress
  const done = progress?.itemsRestored ?? 0
  if (phase === "InProgress") {
    return progress?.totalItems === undefined
      ? "phase InProgress: reading the backup"
      : `items restored: ${done}/${progress.totalItems}`
  }
  return `phase ${phase}: ${done} items restored`
}

/** `3 owned by a restored ReplicaSet; 1 nodes are never restored`. */
const skippedBecause = (outcomes: RestoreOutcomes): string =>
  (outcomes.skippedReasons ?? []).map(({ count, reason }) => `${count} ${reason}`).join("; ")

/** `5 created, 0 updated, 2 unchanged, 4 skipped (...), 0 failed`: what happened to every selected item. */
export const outcomeCounts = (outcomes: RestoreOutcomes, withReasons: boolean): string => {
  const why = withReasons ? skippedBecause(outcomes) : ""
  return [
    `${outcomes.created ?? 0} created`,
    `${outcomes.updated ?? 0} updated`,
    `${outcomes.unchanged ?? 0} unchanged`,
    `${outcomes.skipped ?? 0} skipped${why === "" ? "" : ` (${why})`}`,
    `${outcomes.failed ?? 0} failed`
  ].join(", ")
}

/** The last line of `--wait`: the phase and what happened to the items. */
export const outcomeLine = (restore: Restore): string => {
  const name = restore.metadata.name ?? ""
  const status = restore.status
  const problems = `${status?.warnings ?? 0} warnings, ${status?.errors ?? 0} errors`
  // A restore finished by a server without outcome counts says only how many items it handled.
  const counts = status?.outcomes === undefined
    ? `${status?.progress?.itemsRestored ?? 0} items, ${problems}`
    : `${outcomeCounts(status.outcomes, true)}; ${problems}`
  const phase = phaseOf(restore)
  switch (phase) {
    case "FailedValidation":
      return `Restore "${name}" failed validation:\n${
        (status?.validationErrors ?? []).map((problem) => `  - ${problem}`).join("\n")
      }`
    case "Failed":
      return `Restore "${name}" Failed${
        status?.failureReason === undefined ? "" : `: ${status.failureReason}`
      } (${counts})`
    default:
      return `Restore "${name}" ${phase} (${counts})`
  }
}

/** What `--details` reads from storage: the results file and the items file, each or why not. */
export interface RestoreDetails {
  readonly results: Either.Either<RestoreResults, string>
  readonly items: Either.Either<ReadonlyArray<ItemResult>, string>
}

const clusterScope = (value: boolean | undefined) => (value === undefined ? "auto" : value ? "included" : "excluded")

/** `{warnings, errors}` of the results file: messages about Ark, the cluster scope, and each namespace. */
export interface ResultMessages {
  readonly ark?: ReadonlyArray<string>
  readonly cluster?: ReadonlyArray<string>
  readonly namespaces?: Readonly<Record<string, ReadonlyArray<string>>>
}

export interface RestoreResults {
  readonly warnings?: ResultMessages
  readonly errors?: ResultMessages
}

const messageLines = (title: string, messages: ResultMessages | undefined): ReadonlyArray<string> => {
  const ark = messages?.ark ?? []
  const cluster = messages?.cluster ?? []
  const namespaces = Object.entries(messages?.namespaces ?? {}).sort(([a], [b]) => a.localeCompare(b))
  if (ark.length + cluster.length + namespaces.length === 0) return [`${title}:  <none>`]
  const list = (
    items: ReadonlyArray<string>
  ) => (items.length === 0 ? ["    <none>"] : items.map((item) => `    ${item}`))
  return [
    `${title}:`,
    "  Ark:",
    ...list(ark),
    "  Cluster:",
    ...list(cluster),
    "  Namespaces:",
    ...(namespaces.length === 0
      ? ["    <none>"]
      : namespaces.flatMap(([namespace, items]) => [`    ${namespace}:`, ...items.map((item) => `      ${item}`)]))
  ]
}

const resultLines = (details: Option.Option<RestoreDetails>): ReadonlyArray<string> =>
  Option.match(details, {
    onNone: () => ["Results:  <use --details to show every item, and the restore's warnings and errors>"],
    onSome: ({ items, results }) => [
      ...Either.match(results, {
        onLeft: (reason) => [`Results:  <not available: ${reason}>`],
        onRight: (
          results
        ) => [...messageLines("Warnings", results.warnings), "", ...messageLines("Errors", results.errors)]
      }),
      "",
      ...Either.match(items, {
        onLeft: (reason) => [`Items:  <not available: ${reason}>`],
        onRight: (items) => itemLines(items)
      })
    ]
  })

const outcomeSections: ReadonlyArray<{ readonly outcome: Outcome; readonly title: (n: number) => string }> = [
  { outcome: "created", title: (n) => `Created (${n}):` },
  { outcome: "updated", title: (n) => `Updated (${n}):` },
  { outcome: "unchanged", title: (n) => `Unchanged (${n}), already there and identical:` },
  { outcome: "skipped", title: (n) => `Skipped (${n}):` },
  { outcome: "failed", title: (n) => `Failed (${n}):` }
]

/** `--details`: every item the restore selected, by outcome, with why where there is a why. */
const itemLines = (items: ReadonlyArray<ItemResult>): ReadonlyArray<string> => {
  if (items.length === 0) return ["Items:  <none>"]
  const rows = items.map((item) => ({
    outcome: item.outcome,
    resource: item.resource ?? "",
    ...(item.namespace === undefined ? {} : { namespace: item.namespace }),
    name: item.name ?? "",
    ...(item.reason === undefined ? {} : { reason: item.reason })
  }))
  return [
    `Items (${items.length}):`,
    ...itemSections(outcomeSections.map(({ outcome, title }) => ({
      title,
      entries: rows.filter((row) => row.outcome === outcome),
      withReason: outcome !== "created" && outcome !== "unchanged"
    }))).map((line) => (line === "" ? line : `  ${line}`))
  ]
}

/** `ark restore describe`: Velero's layout; the results and items files only with `--details`. */
export const describeRestore = (restore: Restore, details: Option.Option<RestoreDetails>): string => {
  const { spec, status } = restore
  const mapping = spec.namespaceMapping === undefined
    ? "<none>"
    : listOrNone(Object.entries(spec.namespaceMapping).map(([from, to]) => `${from}=${to}`))
  const lines = [
    `Name:         ${restore.metadata.name ?? ""}`,
    `Namespace:    ${restore.metadata.namespace ?? ""}`,
    `Labels:       ${mapOrNone(restore.metadata.labels)}`,
    `Annotations:  ${mapOrNone(restore.metadata.annotations)}`,
    "",
    `Phase:  ${phaseOf(restore)}`,
    ...(status?.validationErrors !== undefined && status.validationErrors.length > 0
      ? ["", "Validation errors:", ...status.validationErrors.map((problem) => `  - ${problem}`)]
      : []),
    ...(status?.failureReason === undefined ? [] : [`Failure reason:  ${status.failureReason}`]),
    "",
    `Started:    ${formatTime(status?.startTimestamp)}`,
    `Completed:  ${formatTime(status?.completionTimestamp)}`,
    "",
    `Items restored:  ${status?.progress?.itemsRestored ?? 0} of ${status?.progress?.totalItems ?? "?"}`,
    ...(status?.outcomes === undefined ? [] : [
      `Outcomes:        ${outcomeCounts(status.outcomes, false)}`,
      ...(status.outcomes.skippedReasons ?? []).map(({ count, reason }) => `  skipped ${count}: ${reason}`)
    ]),
    `Warnings:        ${status?.warnings ?? 0}`,
    `Errors:          ${status?.errors ?? 0}`,
    "",
    `Backup:  ${sourceOf(restore)}`,
    ...(spec.scheduleName === undefined ? [] : [`Schedule:  ${spec.scheduleName}`]),
    "",
    "Namespaces:",
    `  Included:  ${
      spec.includedNamespaces === undefined ? "all namespaces found in the backup" : listOrNone(spec.includedNamespaces)
    }`,
    `  Excluded:  ${listOrNone(spec.excludedNamespaces)}`,
    "",
    "Resources:",
    `  Included:        ${spec.includedResources === undefined ? "*" : listOrNone(spec.includedResources)}`,
    `  Excluded:        ${listOrNone(spec.excludedResources)}`,
    `  Cluster-scoped:  ${clusterScope(spec.includeClusterResources)}`,
    "",
    `Namespace mappings:  ${mapping}`,
    "",
    `Label selector:  ${selectorSummary(restore.spec)}`,
    "",
    `Restore PVs:               ${spec.restorePVs}`,
    `Existing resource policy:  ${spec.existingResourcePolicy}`,
    ...(spec.resourceModifier === undefined
      ? []
      : [`Resource modifiers:        ${spec.resourceModifier.kind}/${spec.resourceModifier.name}`]),
    "",
    ...resultLines(details)
  ]
  return lines.join("\n")
}

const actions = [
  { action: "create", title: (n: number) => `Would create (${n}):` },
  { action: "unchanged", title: (n: number) => `Unchanged (${n}), already there and identical:` },
  { action: "conflict", title: (n: number) => `In conflict (${n}), already there and different:` },
  { action: "skip", title: (n: number) => `Skipped (${n}):` }
] as const

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`

/** `12 to create, 3 unchanged, 1 conflict, 5 skipped`. */
export const dryRunSummary = (entries: ReadonlyArray<DryRunEntry>): string => {
  const count = (action: DryRunEntry["action"]) => entries.filter((entry) => entry.action === action).length
  return [
    `${count("create")} to create`,
    `${count("unchanged")} unchanged`,
    plural(count("conflict"), "conflict", "conflicts"),
    `${count("skip")} skipped`
  ].join(", ")
}

/** A row of an item table: the dry run's entries and a finished restore's items. */
interface ItemRow {
  readonly resource: string
  readonly namespace?: string
  readonly name: string
  readonly reason?: string
  readonly diff?: ReadonlyArray<string>
  /** The dry run's changes by resource modifiers. */
  readonly modified?: ReadonlyArray<string>
}

/**
 * One titled table per non-empty section, a row per object with its diff lines
 * indented under it, and a blank line after each; the columns line up across sections.
 */
const itemSections = (
  sections: ReadonlyArray<{
    readonly title: (count: number) => string
    readonly entries: ReadonlyArray<ItemRow>
    readonly withReason: boolean
  }>
): ReadonlyArray<string> => {
  const cells = (entry: ItemRow) => [entry.resource, entry.namespace ?? "<cluster>", entry.name, entry.reason ?? ""]
  const headers = ["RESOURCE", "NAMESPACE", "NAME", "REASON"]
  const all = sections.flatMap((section) => section.entries)
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...all.map((entry) => (cells(entry)[column] ?? "").length))
  )
  const line = (row: ReadonlyArray<string>) =>
    "  " + row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("   ").trimEnd()
  return sections.flatMap(({ entries, title, withReason }) => {
    if (entries.length === 0) return []
    const head = withReason ? headers : headers.slice(0, 3)
    return [
      title(entries.length),
      line(head),
      ...entries.flatMap((entry) => [
        line(withReason ? cells(entry) : cells(entry).slice(0, 3)),
        ...(entry.modified === undefined ? [] : ["      changed by resource modifiers:"]),
        ...(entry.modified ?? []).map((change) => `        ${change}`),
        ...(entry.diff ?? []).map((diff) => `      ${diff}`)
      ]),
      ""
    ]
  })
}

/**
 * The `--dry-run` plan: one section per action (create / unchanged / conflict / skip) with a row
 * per object, a conflict's diff lines indented under it, then the summary line.
 */
export const dryRunView = (entries: ReadonlyArray<DryRunEntry>): string => {
  const sections = itemSections(actions.map(({ action, title }) => ({
    title,
    entries: entries.filter((entry) => entry.action === action),
    withReason: action === "skip" || action === "conflict"
  })))
  return [
    ...(entries.length === 0 ? ["The backup holds nothing this restore selects.", ""] : sections),
    dryRunSummary(entries)
  ]
    .join("\n")
}
