// A restore's item outcomes: counts with skips grouped by why, and the items file streamed to
// storage, which never holds the restore up even when storage fails.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Stream } from "effect"

import * as MemoryStore from "../../layers/objectstore/Memory.ts"
import { ObjectStore, ObjectStoreError } from "../../services/ObjectStore.ts"
import { maxSkipReasons, openItemOutcomes, otherSkipReasons, skipGroup } from "../../src/restore/outcomes.ts"
import { readGzipText } from "../backup/fixtures.ts"

describe("restore item outcomes", () => {
  it("groups a skip reason by what comes before its detail", () => {
    assert.strictEqual(skipGroup("owned by a restored Deployment: web"), "owned by a restored Deployment")
    assert.strictEqual(skipGroup("nodes are never restored"), "nodes are never restored")
  })

  it.effect("counts each outcome, keeps the most frequent skip reasons first, and streams one line per item", () =>
    Effect.gen(function*() {
      const store = yield* MemoryStore.make()
      const outcomes = yield* openItemOutcomes("restores/r/restore-r-items.gz").pipe(
        Effect.provideService(ObjectStore, store)
      )
      // More lines than the upload queues: recording waits for the upload, never for the end.
      for (let i = 0; i < 3000; i++) {
        yield* outcomes.record({ outcome: "created", resource: "configmaps", name: `c${i}` })
      }
      yield* outcomes.record({
        outcome: "skipped",
        resource: "pods",
        name: "p",
        reason: "pod has finished (phase Succeeded)"
      })
      for (const name of ["a", "b"]) {
        yield* outcomes.record({
          outcome: "skipped",
          resource: "pods",
          name,
          reason: `owned by a restored ReplicaSet: ${name}`
        })
      }
      yield* outcomes.record({ outcome: "failed", resource: "secrets", name: "s", reason: "forbidden" })
      for (let i = 0; i <= maxSkipReasons; i++) {
        yield* outcomes.record({ outcome: "skipped", resource: "jobs.batch", name: `j${i}`, reason: `reason ${i}` })
      }
      const summary = outcomes.summary()
      assert.deepStrictEqual(
        { ...summary, skippedReasons: summary.skippedReasons?.slice(0, 2) },
        {
          created: 3000,
          updated: 0,
          unchanged: 0,
          skipped: 3 + maxSkipReasons + 1,
          failed: 1,
          // Past the cap (two reasons, then 18 of the 21 others), the rest count together.
          skippedReasons: [{ reason: otherSkipReasons, count: 3 }, {
            reason: "owned by a restored ReplicaSet",
            count: 2
          }]
        }
      )
      assert.strictEqual(summary.skippedReasons?.length, maxSkipReasons + 1)
      yield* outcomes.close
      const lines =
        (yield* readGzipText("restores/r/restore-r-items.gz").pipe(Effect.provideService(ObjectStore, store)))
          .trim().split("\n").map((line) => JSON.parse(line))
      assert.strictEqual(lines.length, 3000 + 3 + 1 + maxSkipReasons + 1)
      assert.deepStrictEqual(lines[3001], {
        outcome: "skipped",
        resource: "pods",
        name: "a",
        reason: "owned by a restored ReplicaSet: a"
      })
    }))

  it.effect("a failed upload does not block recording; close reports it", () =>
    Effect.gen(function*() {
      const memory = yield* MemoryStore.make()
      const failing: ObjectStore.Shape = {
        ...memory,
        put: (key, body) =>
          Stream.take(body, 1).pipe(
            Stream.runDrain,
            Effect.zipRight(
              Effect.fail(new ObjectStoreError({ operation: "put", key, message: "bucket gone", retryable: false }))
            )
          )
      }
      const outcomes = yield* openItemOutcomes("items.gz").pipe(Effect.provideService(ObjectStore, failing))
      for (let i = 0; i < 5000; i++) {
        yield* outcomes.record({ outcome: "created", resource: "configmaps", name: `c${i}` })
      }
      const closed = yield* Effect.either(outcomes.close)
      assert.isTrue(Either.isLeft(closed))
      assert.strictEqual(outcomes.summary().created, 5000)
    }))
})
