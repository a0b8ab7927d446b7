// What happened to each item a restore selected: counts for its status (skipped ones grouped by
// why), and the list of every item with its outcome, streamed to storage as the items are decided
// (restore-<r>-items.gz, JSON lines) for `ark restore describe --details`. Nothing here grows with
// the backup but the handful of skip reasons.
import { Effect, Fiber, Mailbox, Stream } from "effect"

import { ObjectStore } from "../../services/ObjectStore.ts"
import type { RestoreOutcomes } from "../api/restore.ts"
import { gzipText } from "../archive/gzip.ts"
import type { Where } from "../backup/log.ts"

export type Outcome = "created" | "updated" | "unchanged" | "skipped" | "failed"

/** One line of the items file. */
export interface ItemResult extends Where {
  readonly outcome: Outcome
  /** Why it was skipped or failed, or what an update changed. */
  readonly reason?: string
}

/** A skip reason reads `<why>` or `<why>: <which>` (skips.ts); the status groups skips by `<why>`. */
export const skipGroup = (reason: string): string => {
  const colon = reason.indexOf(": ")
  return colon < 0 ? reason : reason.slice(0, colon)
}

/** Distinct skip reasons kept in the status; more are counted together. */
export const maxSkipReasons = 20
export const otherSkipReasons = "other reasons"

/** Lines queued for the upload before a restore waits for it: a bounded amount, whatever the backup holds. */
const queuedLines = 1024

export interface ItemOutcomes {
  readonly record: (result: ItemResult) => Effect.Effect<void>
  /** The counts so far, as the status shows them. */
  readonly summary: () => RestoreOutcomes
  /** Ends the items file and waits for its upload; a failed upload is the Left. */
  readonly close: Effect.Effect<void, { readonly message: string }>
}

const tally = () => {
  const counts: Record<Outcome, number> = { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 }
  const reasons = new Map<string, number>()
  const add = (result: ItemResult) => {
    counts[result.outcome] += 1
    if (result.outcome !== "skipped") return
    const group = skipGroup(result.reason ?? "")
    const key = reasons.has(group) || reasons.size < maxSkipReasons ? group : otherSkipReasons
    reasons.set(key, (reasons.get(key) ?? 0) + 1)
  }
  const summary = (): RestoreOutcomes => {
    const skippedReasons = [...reasons]
      .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
      .map(([reason, count]) => ({ reason, count }))
    return { ...counts, ...(skippedReasons.length === 0 ? {} : { skippedReasons }) }
  }
  return { add, summary }
}

/**
 * Starts the upload of `key` at once and feeds it each recorded item. Should the upload fail, the
 * rest is drained, so recording never blocks the restore; `close` reports the failure.
 */
export const openItemOutcomes = (key: string): Effect.Effect<ItemOutcomes, never, ObjectStore> =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const lines = yield* Mailbox.make<string>(queuedLines)
    const counted = tally()
    // Lines reach gzip in batches: one zlib write per item's line cost more than the line itself.
    const upload = yield* store.put(key, gzipText(Mailbox.toStream(lines).pipe(Stream.rechunk(256)))).pipe(
      Effect.tapError(() => Stream.runDrain(Mailbox.toStream(lines))),
      Effect.fork
    )
    const record = (result: ItemResult) =>
      Effect.suspend(() => {
        counted.add(result)
        return lines.offer(`${JSON.stringify(result)}\n`)
      }).pipe(Effect.asVoid)
    const close = lines.end.pipe(Effect.zipRight(Fiber.join(upload)))
    return { record, summary: counted.summary, close }
  })
