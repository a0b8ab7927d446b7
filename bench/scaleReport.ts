// The pure parts of `npm run bench -- scale`: reading the server's duration histograms from its
// /metrics page and its log, and the one table the benchmark prints.
import type { LogEntry } from "../test/integration/serverProcess.ts"

/** The sum and count of a histogram over all its series (`<name>_sum{...} v`, `<name>_count{...} v`). */
export const histogramTotals = (page: string, name: string): { readonly sum: number; readonly count: number } => {
  let sum = 0
  let count = 0
  for (const line of page.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (match === null) continue
    const value = Number(match[3])
    if (match[1] === `${name}_sum`) sum += value
    if (match[1] === `${name}_count`) count += value
  }
  return { sum, count }
}

/**
 * The restore concurrency the server settled on, from its "restore finished" line: the message
 * ("…, concurrency settled at 24 (peak 32, 3 requests throttled)") or an annotation named so.
 */
export const settledConcurrency = (entry: LogEntry): string | undefined => {
  const said = /concurrency settled at (\d+) \(peak (\d+)/.exec(String(entry.message))
  if (said !== null) return `${said[1]} (peak ${said[2]})`
  const key = Object.keys(entry.annotations ?? {}).find((name) => /concurrency/i.test(name))
  return key === undefined ? undefined : JSON.stringify(entry.annotations?.[key])
}

export interface ScaleRow {
  readonly objects: number
  readonly rawListPerSecond: number
  readonly backupFilesystemPerSecond: number
  readonly backupS3PerSecond: number
  readonly plainCreatesPerSecond: number
  readonly restorePerSecond: number
  readonly peakRssMiB: number
  readonly idleRssMiB: { readonly before: number; readonly after: number }
  /** The restore concurrency the server logged it settled on, when it logs one. */
  readonly restoreConcurrency?: string | undefined
}

export const goals = { backupOverRaw: 0.9, restoreOverPlain: 0.9, peakRssMiB: 256, idleRssMiB: 120 } as const

const rate = (value: number) => value.toFixed(0)
const ratio = (value: number) => value.toFixed(2)
const mib = (value: number) => value.toFixed(0)

/** One table of every size, then the goals; the concurrency column only when a server logged one. */
export const formatScaleTable = (rows: ReadonlyArray<ScaleRow>): string => {
  const withConcurrency = rows.some((row) => row.restoreConcurrency !== undefined)
  const header = [
    "objects",
    "raw list/s",
    "backup→fs/s",
    "fs÷raw",
    "backup→S3/s",
    "S3÷raw",
    "plain creates/s",
    "restore/s",
    "restore÷plain",
    "peak RSS MiB",
    "idle RSS MiB (before/after)",
    ...(withConcurrency ? ["restore concurrency"] : [])
  ]
  const cells = rows.map((row) => [
    String(row.objects),
    rate(row.rawListPerSecond),
    rate(row.backupFilesystemPerSecond),
    ratio(row.backupFilesystemPerSecond / row.rawListPerSecond),
    rate(row.backupS3PerSecond),
    ratio(row.backupS3PerSecond / row.rawListPerSecond),
    rate(row.plainCreatesPerSecond),
    rate(row.restorePerSecond),
    ratio(row.restorePerSecond / row.plainCreatesPerSecond),
    mib(row.peakRssMiB),
    `${mib(row.idleRssMiB.before)}/${mib(row.idleRssMiB.after)}`,
    ...(withConcurrency ? [row.restoreConcurrency ?? "-"] : [])
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]?.length ?? 0)))
  const line = (row: ReadonlyArray<string>) => row.map((cell, column) => cell.padStart(widths[column] ?? 0)).join("  ")
  return [
    line(header),
    ...cells.map(line),
    `goals: backup ≥ ${goals.backupOverRaw} × raw list; restore ≥ ${goals.restoreOverPlain} × plain creates; ` +
    `server peak RSS ≤ ${goals.peakRssMiB} MiB; idle RSS ≤ ${goals.idleRssMiB} MiB`
  ].join("\n")
}
