// Client-side throttling of API server requests, as client-go's `--client-qps`/`--client-burst`:
// a token bucket holding `burst` tokens, refilled at `qps` per second. A request takes a token, or
// reserves the next one and waits for it, so waiters are served in arrival order and a burst of
// work spreads out instead of meeting 429s from API Priority and Fairness.
import { Clock, Duration, Effect, SynchronizedRef } from "effect"

export interface RateLimit {
  /** Steady requests per second; > 0. */
  readonly qps: number
  /** Requests allowed at once after a quiet spell; >= 1. */
  readonly burst: number
}

/** An effect that returns when the caller may send one request. */
export const makeRateLimiter = (limit: RateLimit): Effect.Effect<Effect.Effect<void>> =>
  Effect.gen(function*() {
    const bucket = yield* SynchronizedRef.make({ tokens: limit.burst, at: yield* Clock.currentTimeMillis })
    return Effect.flatMap(
      SynchronizedRef.modifyEffect(bucket, ({ at, tokens }) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const refilled = Math.min(limit.burst, tokens + ((now - at) / 1000) * limit.qps)
          // Below zero: tokens already promised to earlier waiters.
          const left = refilled - 1
          const wait = left >= 0 ? 0 : (-left / limit.qps) * 1000
          return [Duration.millis(Math.ceil(wait)), { tokens: left, at: now }] as const
        })),
      (wait) => Duration.toMillis(wait) === 0 ? Effect.void : Effect.sleep(wait)
    )
  })
