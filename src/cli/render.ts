// Pure output helpers shared by the CLI's `get` and `describe` commands: kubectl-style tables,
// JSON/YAML documents, and the times and durations Velero prints.
import { DateTime, Duration, Option } from "effect"

import { toYaml } from "../api/manifests/yaml.ts"

export type OutputFormat = "table" | "json" | "yaml"

/** Columns padded to their widest cell, three spaces apart, no trailing blanks (as kubectl prints). */
export const renderTable = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length))
  )
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("   ").trimEnd()
  return [line(headers), ...rows.map((row) => line(row))].join("\n")
}

/** The object without `metadata.managedFields`, the API server's bookkeeping of who wrote which field. */
export const withoutManagedFields = (object: unknown): unknown => {
  if (typeof object !== "object" || object === null || !("metadata" in object)) return object
  const metadata = object.metadata
  if (typeof metadata !== "object" || metadata === null || !("managedFields" in metadata)) return object
  const { managedFields: _managedFields, ...rest } = metadata
  return { ...object, metadata: rest }
}

/**
 * One object as itself, several as a `v1 List` (what `kubectl get -o yaml` prints), so the output
 * can be fed back to `kubectl apply`. `managedFields` are left out unless asked for, as kubectl does.
 */
export const renderDocument = (
  format: "json" | "yaml",
  objects: ReadonlyArray<unknown>,
  single: boolean,
  showManagedFields = false
): string => {
  const shown = showManagedFields ? objects : objects.map((object) => withoutManagedFields(object))
  const document = single && shown.length === 1 ? shown[0] : { apiVersion: "v1", kind: "List", items: shown }
  return format === "json" ? JSON.stringify(document, null, 2) : toYaml(document).trimEnd()
}

/** Go's `time.Time.String()` as Velero prints it: `2024-05-01 12:00:00 +0000 UTC`. */
export const formatTime = (timestamp: string | undefined): string =>
  Option.match(Option.flatMap(Option.fromNullable(timestamp), (text) => DateTime.make(text)), {
    onNone: () => "<n/a>",
    onSome: (time) =>
      `${DateTime.formatIso(DateTime.toUtc(time)).replace("T", " ").replace(/(\.[0-9]+)?Z$/, "")} +0000 UTC`
  })

/** apimachinery's `duration.ShortHumanDuration`: 45s, 12m, 5h, 29d, 2y. */
export const shortHumanDuration = (duration: Duration.Duration): string => {
  const seconds = Math.floor(Duration.toSeconds(duration))
  if (seconds < 60) return `${Math.max(seconds, 0)}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours}h`
  if (hours < 24 * 365) return `${Math.floor(hours / 24)}d`
  return `${Math.floor(hours / 24 / 365)}y`
}

/** Velero's EXPIRES column: `29d` ahead, `3h ago` behind, `n/a` without a time. */
export const timeFromNow = (timestamp: string | undefined, now: DateTime.Utc): string =>
  Option.match(Option.flatMap(Option.fromNullable(timestamp), (text) => DateTime.make(text)), {
    onNone: () => "n/a",
    onSome: (time) => {
      const millis = DateTime.toEpochMillis(time) - DateTime.toEpochMillis(now)
      return millis >= 0
        ? shortHumanDuration(Duration.millis(millis))
        : `${shortHumanDuration(Duration.millis(-millis))} ago`
    }
  })

/** `a, b` for a list, `<none>` for nothing. */
export const listOrNone = (values: ReadonlyArray<string> | undefined): string =>
  values === undefined || values.length === 0 ? "<none>" : values.join(", ")

/** `k=v, k2=v2` for a string map, `<none>` for nothing. */
export const mapOrNone = (values: Readonly<Record<string, string>> | undefined): string =>
  listOrNone(Object.entries(values ?? {}).map(([key, value]) => `${key}=${value}`))
