// Lists read ahead of the writer. A backup reads dozens of lists one after the other, most of them
// empty; one at a time that is a round trip each, more than the whole write of a small backup. So
// the next few lists fetch their first page while the current one is written, and the list being
// written fetches its next page meanwhile: in order, and with a fixed bound on what is held.
import { Deferred, Effect, Exit, Queue, Stream, Take } from "effect"

export interface ReadAheadOptions {
  /** Sources started before the one being consumed is done. */
  readonly sources: number
  /** Chunks (pages) the source being consumed may hold before it waits for the consumer. */
  readonly chunks: number
}

/**
 * `consume(source, read(source))` for each source, concatenated in order, with each read running
 * ahead of its consumer. A source not yet consumed holds only its first chunk: most lists are one
 * page, and that page is the round trip saved. So at most `options.sources + 1` waiting chunks
 * (those buffered and the one being handed over) plus `options.chunks + 1` of the source being
 * consumed (its queue and the chunk in hand) are held at once.
 */
export const concatReadAhead = <S, A, E, R, B, E2, R2>(
  sources: Iterable<S>,
  read: (source: S) => Stream.Stream<A, E, R>,
  consume: (source: S, read: Stream.Stream<A, E>) => Stream.Stream<B, E2, R2>,
  options: ReadAheadOptions
): Stream.Stream<B, E2, R | R2> =>
  Stream.unwrapScoped(Effect.map(Effect.scope, (scope) =>
    Stream.fromIterable(sources).pipe(
      // Each read runs in the scope of the whole stream, so its producer outlives this step.
      Stream.mapEffect((source) =>
        Effect.gen(function*() {
          const queue = yield* Queue.bounded<Take.Take<A, E>>(options.chunks)
          const consuming = yield* Deferred.make<void>()
          let first = true
          yield* read(source).pipe(
            Stream.runForEachChunk((chunk) => {
              const offer = Queue.offer(queue, Take.chunk(chunk))
              if (!first) return offer
              first = false
              // The next page is fetched only once this source is being consumed.
              return Effect.zipRight(offer, Deferred.await(consuming))
            }),
            Effect.exit,
            Effect.flatMap((exit) => Queue.offer(queue, Exit.isSuccess(exit) ? Take.end : Take.failCause(exit.cause))),
            Effect.forkIn(scope)
          )
          return [source, queue, consuming] as const
        })
      ),
      Stream.buffer({ capacity: options.sources }),
      Stream.flatMap(([source, queue, consuming]) =>
        consume(
          source,
          Stream.concat(
            Stream.execute(Deferred.succeed(consuming, undefined)),
            Stream.flattenTake(Stream.fromQueue(queue))
          )
        )
      )
    )))
