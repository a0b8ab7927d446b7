// The restore's log (JSON lines, capped like the backup's). Results reuse the backup's
// warnings/errors-by-namespace shape (makeBackupResults).
import { Clock, DateTime, Effect } from "effect"

import { toTimestamp } from "../api/common.ts"
import type { Level, Where } from "../backup/log.ts"
import { defaultLogLineLimit } from "../backup/log.ts"

export interface RestoreLog {
  readonly write: (level: Level, msg: string, where?: Where) => Effect.Effect<void>
  /** The lines kept, plus one saying how many were dropped past the cap. */
  readonly lines: Effect.Effect<ReadonlyArray<string>>
}

export const makeRestoreLog = (restore: string, limit: number = defaultLogLineLimit): RestoreLog => {
  const kept: Array<string> = []
  let dropped = 0
  const line = (millis: number, level: Level, msg: string, where: Where) =>
    JSON.stringify({ time: toTimestamp(DateTime.unsafeMake(millis)), level, msg, restore, ...where })
  const write = (level: Level, msg: string, where: Where = {}) =>
    Clock.currentTimeMillis.pipe(
      Effect.map((millis) => {
        if (kept.length >= limit) dropped += 1
        else kept.push(line(millis, level, msg, where))
      })
    )
  const lines = Clock.currentTimeMillis.pipe(
    Effect.map((millis) =>
      dropped === 0
        ? [...kept]
        : [...kept, line(millis, "warning", `${dropped} further log lines were dropped (limit ${limit})`, {})]
    )
  )
  return { write, lines }
}
