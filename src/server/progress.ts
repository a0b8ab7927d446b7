// Progress of a long operation, written to its status at most once per interval: a backup of
// 100k objects reports often to its log, but must not hammer the API server.
import type { Duration, Scope } from "effect"
import { Effect, Option, Ref, Schedule } from "effect"

export interface Progress {
  /** Unset while the total is not known yet. */
  readonly totalItems?: number
  readonly itemsBackedUp: number
}

/**
 * A `report` that only keeps the newest value; a fiber in the current scope writes it with
 * `write` every `interval` when it changed. A failed write is logged and retried next tick.
 */
export const throttledProgress = <E>(
  write: (progress: Progress) => Effect.Effect<void, E>,
  interval: Duration.DurationInput
): Effect.Effect<(progress: Progress) => Effect.Effect<void>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const latest = yield* Ref.make(Option.none<Progress>())
    const written = yield* Ref.make(Option.none<Progress>())
    const same = Option.getEquivalence((a: Progress, b: Progress) =>
      a.itemsBackedUp === b.itemsBackedUp && a.totalItems === b.totalItems
    )
    const flush = Effect.gen(function*() {
      const progress = yield* Ref.get(latest)
      if (Option.isNone(progress) || same(progress, yield* Ref.get(written))) return
      yield* write(progress.value)
      yield* Ref.set(written, progress)
    }).pipe(Effect.catchAll((error) => Effect.logWarning("cannot record progress", error)))
    yield* Effect.forkScoped(flush.pipe(Effect.repeat(Schedule.spaced(interval))))
    return (progress: Progress) => Ref.set(latest, Option.some(progress))
  })
