// How many of the restore's items are in flight at once, adapted to the API server as TCP adapts
// its congestion window (AIMD): one more per window's worth of successes while their latency holds,
// half as many on a 429, and nothing new sent until the server's Retry-After has passed. The live
// client retries 429s itself; it tells the window through throttleObserver.
import { Clock, Duration, Effect } from "effect"

import { throttleObserver } from "../../services/KubeClient.ts"

export interface WindowLimits {
  /** In flight at the start. */
  readonly initial: number
  /** In flight at most. */
  readonly max: number
}

/** 16, the fixed concurrency it replaces; the latency check stops growth well before 128 on a busy server. */
export const defaultWindowLimits: WindowLimits = { initial: 16, max: 128 }

/** Growth stops while the items' smoothed latency is above this many times the lowest seen: more would only queue. */
const latencyRise = 2
/** Below a few milliseconds latency is noise (and 0 under TestClock). */
const latencySlackMillis = 5

export interface WindowStats {
  /** In flight allowed now. */
  readonly size: number
  readonly peak: number
  /** 429s the client met (and retried). */
  readonly throttled: number
}

export interface ConcurrencyWindow {
  /** Runs `work` once the window has room; the 429s its requests meet shrink the window. */
  readonly run: <A, E, R>(work: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * Waits until the window has room and takes it; `work`, as returned, runs in that room and gives
   * it back when it ends, so it must be run. For a caller that forks its items: it waits here once,
   * instead of each forked item waiting in `run`.
   */
  readonly admit: <A, E, R>(work: Effect.Effect<A, E, R>) => Effect.Effect<Effect.Effect<A, E, R>>
  readonly stats: Effect.Effect<WindowStats>
}

const clamp = (value: number, max: number) => Math.min(max, Math.max(1, Math.floor(value)))

export const makeWindow = (limits: WindowLimits = defaultWindowLimits): Effect.Effect<ConcurrencyWindow> =>
  Effect.gen(function*() {
    const max = clamp(limits.max, Number.MAX_SAFE_INTEGER)
    const initial = clamp(limits.initial, max)
    const slots = yield* Effect.makeSemaphore(initial)
    // Read directly on each item's path (no Effect per read): this runs once per restored object.
    const clock = yield* Effect.clock
    const state = {
      size: initial,
      /** Successes since the size last changed: one more slot per `size` of them. */
      credit: 0,
      peak: initial,
      throttled: 0,
      /** Counts the halvings: a 429 of an item sent before the last one is the same congestion. */
      cuts: 0,
      resumeAt: 0,
      latency: undefined as number | undefined,
      lowestLatency: Number.POSITIVE_INFINITY
    }

    const resize = (size: number) =>
      Effect.suspend(() => {
        state.size = size
        state.credit = 0
        state.peak = Math.max(state.peak, size)
        return slots.resize(size)
      })

    const onThrottled = (cutsAtStart: number) => (retryAfter: Duration.Duration | undefined) =>
      Effect.gen(function*() {
        state.throttled += 1
        if (retryAfter !== undefined) {
          const now = yield* Clock.currentTimeMillis
          state.resumeAt = Math.max(state.resumeAt, now + Duration.toMillis(retryAfter))
        }
        if (cutsAtStart !== state.cuts) return
        state.cuts += 1
        yield* resize(Math.max(1, Math.floor(state.size / 2)))
      })

    const onSuccess = (millis: number) =>
      Effect.suspend(() => {
        state.latency = state.latency === undefined ? millis : 0.9 * state.latency + 0.1 * millis
        state.lowestLatency = Math.min(state.lowestLatency, state.latency)
        if (state.latency > latencyRise * state.lowestLatency + latencySlackMillis || state.size >= max) {
          return Effect.void
        }
        state.credit += 1
        return state.credit >= state.size ? resize(state.size + 1) : Effect.void
      })

    // New items wait out the server's Retry-After: sent sooner they would only meet the same 429.
    const pastRetryAfter: Effect.Effect<void> = Effect.suspend(() => {
      const wait = state.resumeAt - clock.unsafeCurrentTimeMillis()
      return wait <= 0 ? Effect.void : Effect.zipRight(Effect.sleep(wait), pastRetryAfter)
    })

    const measured = <A, E, R>(work: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.zipRight(
        pastRetryAfter,
        Effect.suspend(() => {
          const cuts = state.cuts
          const start = clock.unsafeCurrentTimeMillis()
          return Effect.locally(work, throttleObserver, onThrottled(cuts)).pipe(
            // Only a clean run speaks for growth; a throttled one's latency includes its Retry-After.
            Effect.tap(() => state.cuts === cuts ? onSuccess(clock.unsafeCurrentTimeMillis() - start) : Effect.void)
          )
        })
      )

    const run = <A, E, R>(work: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => slots.withPermits(1)(measured(work))

    // As withPermits does: once taken, the room is handed over uninterrupted with its release attached.
    const admit = <A, E, R>(work: Effect.Effect<A, E, R>): Effect.Effect<Effect.Effect<A, E, R>> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.as(restore(slots.take(1)), Effect.ensuring(measured(work), slots.release(1)))
      )

    const stats = Effect.sync((): WindowStats => ({ size: state.size, peak: state.peak, throttled: state.throttled }))

    return { run, admit, stats }
  })
