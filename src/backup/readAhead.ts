// Lists read ahead of the writer. A backup reads dozens of lists one after the other, most of them
// empty; one at a time that is a round trip each, more than the whole write of a small backup. So
// the next few lists start while the current one is written, and each list fetches its next page
// while the current page is written: in order, and with a fixed bound on what is held.
import { Effect, Scope, Stream } from "effect"

export interface ReadAheadOptions {
  /** Sources started before the one being consumed is done. */
  readonly sources: number
  /** Chunks (pages) each started read may hold before it waits for the consumer. */
  readonly chunks: number
}

/**
 * `consume(source, read(source))` for each source, concatenated in order, with each read running
 * ahead of its consumer. At most `(options.sources + 2) × (options.chunks + 1)` chunks are held at
 * once: every started read has a full queue and one more chunk in hand, and the started ones are
 * those buffered, the one being handed over and the one being consumed.
 */
export const concatReadAhead = <S, A, E, R, B, E2, R2>(
  sources: Iterable<S>,
  read: (source: S) => Stream.Stream<A, E, R>,
  consume: (source: S, read: Stream.Stream<A, E>) => Stream.Stream<B, E2, R2>,
  options: ReadAheadOptions
): Stream.Stream<B, E2, R | R2> =>
  Stream.unwrapScoped(Effect.map(Effect.scope, (scope) =>
    Stream.fromIterable(sources).pipe(
      // Each read runs in the scope of the whole stream, so its queue outlives this step.
      Stream.mapEffect((source) =>
        Stream.toQueue(read(source), { capacity: options.chunks }).pipe(
          Scope.extend(scope),
          Effect.map((queue) => [source, queue] as const)
        )
      ),
      Stream.buffer({ capacity: options.sources }),
      Stream.flatMap(([source, queue]) => consume(source, Stream.flattenTake(Stream.fromQueue(queue))))
    )))
