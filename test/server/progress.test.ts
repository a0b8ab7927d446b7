// Progress writes are throttled: at most one per interval, always the newest value, none when unchanged.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Ref, TestClock } from "effect"

import type { Progress } from "../../src/server/progress.ts"
import { throttledProgress } from "../../src/server/progress.ts"

describe("throttledProgress", () => {
  it.scoped("writes the newest progress once per interval, and nothing while it is unchanged", () =>
    Effect.gen(function*() {
      const writes = yield* Ref.make<ReadonlyArray<Progress>>([])
      const report = yield* throttledProgress((progress) => Ref.update(writes, (all) => [...all, progress]), "1 second")
      const at = (n: number): Progress => ({ totalItems: n, itemsBackedUp: n })
      // Let the writer fiber reach its first sleep.
      yield* TestClock.adjust("0 millis")
      for (let n = 1; n <= 500; n++) yield* report(at(n))
      assert.deepStrictEqual(yield* Ref.get(writes), [], "nothing is written before the interval passes")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Ref.get(writes), [at(500)])
      yield* TestClock.adjust("3 seconds")
      assert.deepStrictEqual(yield* Ref.get(writes), [at(500)], "unchanged progress is not written again")
      yield* report(at(501))
      yield* report(at(502))
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Ref.get(writes), [at(500), at(502)])
    }))

  it.scoped("a failed write is retried on the next tick", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const written = yield* Ref.make<ReadonlyArray<Progress>>([])
      const report = yield* throttledProgress(
        (progress) =>
          Ref.updateAndGet(attempts, (n) => n + 1).pipe(
            Effect.flatMap((n) =>
              n === 1 ? Effect.fail("API server busy") : Ref.update(written, (all) => [...all, progress])
            )
          ),
        "1 second"
      )
      yield* report({ totalItems: 7, itemsBackedUp: 7 })
      // The writer's first tick runs at once and fails...
      yield* TestClock.adjust("0 millis")
      assert.strictEqual(yield* Ref.get(attempts), 1)
      assert.deepStrictEqual(yield* Ref.get(written), [])
      // ...the next one, an interval later, writes it.
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Ref.get(written), [{ totalItems: 7, itemsBackedUp: 7 }])
    }))
})
