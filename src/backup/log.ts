// The backup's own log (uploaded as JSON lines) and its results (warnings and errors per
// namespace, uploaded as JSON). Both are capped: a huge cluster with many failing items must not
// grow them without bound. Counts stay exact past the cap.
import { Clock, DateTime, Effect } from "effect"

import { toTimestamp } from "../api/common.ts"

export type Level = "info" | "warning" | "error"

/** Where a message is about; every field optional. */
export interface Where {
  readonly resource?: string
  readonly namespace?: string
  readonly name?: string
}

export const defaultLogLineLimit = 10_000
export const defaultResultMessageLimit = 1_000

export interface BackupLog {
  readonly write: (level: Level, msg: string, where?: Where) => Effect.Effect<void>
  /** The lines kept, plus one saying how many were dropped past the cap. */
  readonly lines: Effect.Effect<ReadonlyArray<string>>
}

export const makeBackupLog = (backup: string, limit: number = defaultLogLineLimit): BackupLog => {
  const kept: Array<string> = []
  let dropped = 0
  const write = (level: Level, msg: string, where: Where = {}) =>
    Clock.currentTimeMillis.pipe(
      Effect.map((millis) => {
        if (kept.length >= limit) {
          dropped += 1
          return
        }
        const time = toTimestamp(DateTime.unsafeMake(millis))
        kept.push(JSON.stringify({ time, level, msg, backup, ...where }))
      })
    )
  const lines = Clock.currentTimeMillis.pipe(
    Effect.map((millis) =>
      dropped === 0 ? [...kept] : [
        ...kept,
        JSON.stringify({
          time: toTimestamp(DateTime.unsafeMake(millis)),
          level: "warning",
          msg: `${dropped} further log lines were dropped (limit ${limit})`,
          backup
        })
      ]
    )
  )
  return { write, lines }
}

/** Velero's results shape: messages about Ark itself, the cluster scope, and each namespace. */
export interface ResultMessages {
  readonly ark?: ReadonlyArray<string>
  readonly cluster?: ReadonlyArray<string>
  readonly namespaces?: Readonly<Record<string, ReadonlyArray<string>>>
}

export interface BackupResults {
  readonly add: (kind: "warnings" | "errors", message: string, where?: Where) => void
  readonly counts: () => { readonly warnings: number; readonly errors: number }
  readonly toJson: () => { readonly warnings: ResultMessages; readonly errors: ResultMessages }
}

interface Bucket {
  ark: Array<string>
  cluster: Array<string>
  namespaces: Map<string, Array<string>>
  count: number
  kept: number
}

const emptyBucket = (): Bucket => ({ ark: [], cluster: [], namespaces: new Map(), count: 0, kept: 0 })

const bucketJson = (bucket: Bucket): ResultMessages => ({
  ...(bucket.ark.length > 0 ? { ark: bucket.ark } : {}),
  ...(bucket.cluster.length > 0 ? { cluster: bucket.cluster } : {}),
  ...(bucket.namespaces.size > 0 ? { namespaces: Object.fromEntries(bucket.namespaces) } : {})
})

const describe = (message: string, where: Where): string =>
  where.resource === undefined
    ? message
    : `${where.resource}${where.namespace === undefined ? "" : ` ${where.namespace}`}${
      where.name === undefined ? "" : `/${where.name}`
    }: ${message}`

export const makeBackupResults = (limit: number = defaultResultMessageLimit): BackupResults => {
  const buckets = { warnings: emptyBucket(), errors: emptyBucket() }
  return {
    add: (kind, message, where = {}) => {
      const bucket = buckets[kind]
      bucket.count += 1
      if (bucket.kept >= limit) return
      bucket.kept += 1
      const text = describe(message, where)
      if (where.namespace !== undefined) {
        const list = bucket.namespaces.get(where.namespace) ?? []
        list.push(text)
        bucket.namespaces.set(where.namespace, list)
      } else if (where.resource !== undefined) {
        bucket.cluster.push(text)
      } else {
        bucket.ark.push(text)
      }
    },
    counts: () => ({ warnings: buckets.warnings.count, errors: buckets.errors.count }),
    toJson: () => ({ warnings: bucketJson(buckets.warnings), errors: bucketJson(buckets.errors) })
  }
}
