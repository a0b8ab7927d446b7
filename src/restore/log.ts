// The restore's log (JSON lines, capped like the backup's). Results reuse the backup's
// warnings/errors-by-namespace shape (makeBackupResults).
import { DateTime, Effect } from "effect"

import { toTimestamp } from "../api/common.ts"
import type { Level, Where } from "../backup/log.ts"
import { defaultLogLineLimit } from "../backup/log.ts"

export interface RestoreLog {
  readonly write: (level: Level, msg: string, where?: Where) => Effect.Effect<void>
  /** The lines kept, plus one saying how many were dropped past the cap. */
  readonly lines: Effect.Effect<ReadonlyArray<string>>
}

/** Reads the time directly (the Clock in context when made): it writes a line per restored object. */
export const makeRestoreLog = (restore: string, limit: number = defaultLogLineLimit): Effect.Effect<RestoreLog> =>
  Effect.map(Effect.clock, (clock) => {
    const kept: Array<string> = []
    let dropped = 0
    // Lines carry whole seconds: one formatting per second, not one per line.
    let second = Number.NaN
    let time = ""
    const line = (millis: number, level: Level, msg: string, where: Where) => {
      if (Math.floor(millis / 1000) !== second) {
        second = Math.floor(millis / 1000)
        time = toTimestamp(DateTime.unsafeMake(millis))
      }
      return JSON.stringify({ time, level, msg, restore, ...where })
    }
    const write = (level: Level, msg: string, where: Where = {}) =>
      Effect.sync(() => {
        if (kept.length >= limit) dropped += 1
        else kept.push(line(clock.unsafeCurrentTimeMillis(), level, msg, where))
      })
    const lines = Effect.sync(() =>
      dropped === 0
        ? [...kept]
        : [
          ...kept,
          line(
            clock.unsafeCurrentTimeMillis(),
            "warning",
            `${dropped} further log lines were dropped (limit ${limit})`,
            {}
          )
        ]
    )
    return { write, lines }
  })
