// The API client's token bucket on the TestClock: a full bucket lets `burst` requests through at
// once, then one per 1/qps seconds in arrival order, and a quiet spell refills it.
import { assert, describe, it } from "@effect/vitest"
import type { Duration } from "effect"
import { Clock, Effect, Fiber, TestClock } from "effect"

import { makeRateLimiter } from "../../layers/kube/live/rateLimit.ts"

const grantTimes = (acquire: Effect.Effect<void>, count: number, advance: Duration.DurationInput) =>
  Effect.gen(function*() {
    const fibers = yield* Effect.forEach(
      Array.from({ length: count }),
      () => Effect.fork(Effect.zipRight(acquire, Clock.currentTimeMillis))
    )
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(Fiber.all(fibers))
  })

describe("the API client's rate limit", () => {
  it.effect("burst at once, then the steady rate in arrival order", () =>
    Effect.gen(function*() {
      const acquire = yield* makeRateLimiter({ qps: 2, burst: 3 })
      assert.deepStrictEqual(yield* grantTimes(acquire, 6, "10 seconds"), [0, 0, 0, 500, 1000, 1500])
    }))

  it.effect("a quiet spell refills the bucket, never beyond the burst", () =>
    Effect.gen(function*() {
      const acquire = yield* makeRateLimiter({ qps: 10, burst: 2 })
      yield* grantTimes(acquire, 2, "0 millis")
      // An hour idle refills only 2 tokens: the third waits 100 ms.
      yield* TestClock.adjust("1 hour")
      const hour = 3_600_000
      assert.deepStrictEqual(yield* grantTimes(acquire, 3, "1 second"), [hour, hour, hour + 100])
    }))
})
