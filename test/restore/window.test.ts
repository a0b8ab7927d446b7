// The restore's AIMD concurrency window, on TestClock: work items move the clock themselves, so
// latencies and Retry-After waits are exact.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, FiberRef, Ref, TestClock } from "effect"

import { throttleObserver } from "../../services/KubeClient.ts"
import type { ConcurrencyWindow } from "../../src/restore/window.ts"
import { makeWindow } from "../../src/restore/window.ts"

/** What the live client does on a 429 before it retries. */
const meet429 = (retryAfter?: Duration.Duration) =>
  Effect.flatMap(FiberRef.get(throttleObserver), (observe) => observe(retryAfter))

const succeedMany = (window: ConcurrencyWindow, count: number, work: Effect.Effect<void> = Effect.void) =>
  Effect.forEach(Array.from({ length: count }), () => window.run(work), { discard: true })

/** Lets other fibers run until `condition` holds; a bounded number of turns stands in for a deadline. */
const until = (condition: Effect.Effect<boolean>, turns = 10_000): Effect.Effect<void> =>
  Effect.flatMap(condition, (holds) =>
    holds
      ? Effect.void
      : turns === 0
      ? Effect.dieMessage("condition not met")
      : Effect.zipRight(Effect.yieldNow(), until(condition, turns - 1)))

/** The most items `window` lets in at once when `count` are offered together; waits until `expected` are in. */
const mostAtOnce = (window: ConcurrencyWindow, count: number, expected: number) =>
  Effect.gen(function*() {
    const inFlight = yield* Ref.make(0)
    const most = yield* Ref.make(0)
    const release = yield* Deferred.make<void>()
    const item = Effect.gen(function*() {
      const now = yield* Ref.updateAndGet(inFlight, (n) => n + 1)
      yield* Ref.update(most, (m) => Math.max(m, now))
      yield* Deferred.await(release)
      yield* Ref.update(inFlight, (n) => n - 1)
    })
    const fiber = yield* Effect.fork(
      Effect.forEach(Array.from({ length: count }), () => window.run(item), { concurrency: "unbounded" })
    )
    yield* until(Effect.map(Ref.get(inFlight), (n) => n >= expected))
    // The others wait on the window; give them turns to show they stay out.
    for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
    const atOnce = yield* Ref.get(most)
    yield* Deferred.succeed(release, undefined)
    yield* fiber.await
    return atOnce
  })

describe("ConcurrencyWindow", () => {
  it.effect("lets in as many items at once as its size", () =>
    Effect.gen(function*() {
      const window = yield* makeWindow({ initial: 3, max: 10 })
      assert.strictEqual(yield* mostAtOnce(window, 20, 3), 3)
    }))

  it.effect("grows by one per window's worth of successes, up to its cap and no further", () =>
    Effect.gen(function*() {
      const window = yield* makeWindow({ initial: 4, max: 8 })
      yield* succeedMany(window, 4)
      assert.strictEqual((yield* window.stats).size, 5)
      yield* succeedMany(window, 5 + 6 + 7)
      assert.strictEqual((yield* window.stats).size, 8)
      yield* succeedMany(window, 1000)
      assert.deepStrictEqual(yield* window.stats, { size: 8, peak: 8, throttled: 0 })
      assert.strictEqual(yield* mostAtOnce(window, 50, 8), 8)
    }))

  it.effect("stops growing while the items' latency rises", () =>
    Effect.gen(function*() {
      const window = yield* makeWindow({ initial: 2, max: 100 })
      yield* succeedMany(window, 50, TestClock.adjust("10 millis"))
      const settled = (yield* window.stats).size
      assert.isAbove(settled, 2)
      // Ten times slower: more at once would only queue at the server.
      yield* succeedMany(window, 200, TestClock.adjust("100 millis"))
      assert.isAtMost((yield* window.stats).size, settled + 1)
    }))

  it.effect("halves on a 429, once for the 429s of items sent before the cut", () =>
    Effect.gen(function*() {
      const window = yield* makeWindow({ initial: 16, max: 64 })
      const gate = yield* Deferred.make<void>()
      const sent = yield* Ref.make(0)
      // Four items in flight together all meet a 429: one congestion, one cut.
      const fiber = yield* Effect.fork(Effect.forEach(
        Array.from({ length: 4 }),
        () =>
          window.run(
            Ref.update(sent, (n) => n + 1).pipe(Effect.zipRight(Deferred.await(gate)), Effect.zipRight(meet429()))
          ),
        { concurrency: "unbounded" }
      ))
      yield* until(Effect.map(Ref.get(sent), (n) => n === 4))
      yield* Deferred.succeed(gate, undefined)
      yield* fiber.await
      assert.deepStrictEqual(yield* window.stats, { size: 8, peak: 16, throttled: 4 })
      // An item sent after the cut that meets a 429 cuts again.
      yield* window.run(meet429())
      assert.strictEqual((yield* window.stats).size, 4)
      assert.strictEqual(yield* mostAtOnce(window, 20, 4), 4)
    }))

  it.effect("never goes below one", () =>
    Effect.gen(function*() {
      const window = yield* makeWindow({ initial: 2, max: 4 })
      for (let i = 0; i < 5; i++) yield* window.run(meet429())
      assert.strictEqual((yield* window.stats).size, 1)
      yield* succeedMany(window, 1)
      assert.strictEqual((yield* window.stats).size, 2)
    }))

  it.effect("sends nothing new until the server's Retry-After has passed", () =>
    Effect.gen(function*() {
      const window = yield* makeWindow({ initial: 8, max: 8 })
      yield* window.run(meet429(Duration.seconds(5)))
      const started = yield* Ref.make(false)
      const next = yield* Effect.fork(window.run(Ref.set(started, true)))
      yield* TestClock.adjust("4999 millis")
      assert.isFalse(yield* Ref.get(started))
      yield* TestClock.adjust("1 millis")
      yield* next.await
      assert.isTrue(yield* Ref.get(started))
    }))

  it.effect("admits as many as its size; an admitted item's room is free again once it has run", () =>
    Effect.gen(function*() {
      const window = yield* makeWindow({ initial: 2, max: 2 })
      const first = yield* window.admit(Effect.succeed("first"))
      yield* window.admit(Effect.void)
      const third = yield* Effect.fork(window.admit(Effect.void))
      for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
      assert.isNull(third.unsafePoll())
      assert.strictEqual(yield* first, "first")
      const admitted = yield* Fiber.join(third)
      yield* admitted
      assert.strictEqual((yield* window.stats).size, 2)
    }))

  it.effect("keeps its limits in range", () =>
    Effect.gen(function*() {
      const window = yield* makeWindow({ initial: 0, max: 0 })
      assert.deepStrictEqual(yield* window.stats, { size: 1, peak: 1, throttled: 0 })
      const capped = yield* makeWindow({ initial: 50, max: 10 })
      assert.strictEqual((yield* capped.stats).size, 10)
    }))
})
