// A restore level's pass over the tarball (forEachPlannedEntry): each planned entry once, in archive
// order, never more than the concurrency at once, and the first failed item ends the pass.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"

import * as MemoryStore from "../../layers/objectstore/Memory.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { backupKeys, resourceEntryPath } from "../../src/archive/layout.ts"
import { writeArchive } from "../../src/archive/writer.ts"
import type { PlannedItem } from "../../src/restore/plan.ts"
import { forEachPlannedEntry } from "../../src/restore/prepare.ts"

const names = Array.from({ length: 40 }, (_, index) => `cm-${index}`)

const planned = (name: string): PlannedItem => ({
  path: resourceEntryPath("configmaps", "ns", name),
  groupResource: "configmaps",
  namespace: "ns",
  name,
  kind: "ConfigMap",
  level: 6,
  uid: undefined,
  controllerUid: undefined,
  labels: undefined,
  selected: true,
  skip: undefined
})

/** A backup "b" holding a ConfigMap entry per name, in that order. */
const withBackup = <A, E>(effect: Effect.Effect<A, E, ObjectStore>) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    yield* store.put(
      backupKeys("b").tarball,
      writeArchive(
        Stream.fromIterable(names).pipe(Stream.map((name) => ({
          path: resourceEntryPath("configmaps", "ns", name),
          data: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns" } })
        })))
      )
    )
    return yield* effect
  }).pipe(Effect.provide(MemoryStore.layer()))

describe("a restore level's pass", () => {
  it.effect("hands each planned entry out once, in archive order, at most `concurrency` at once", () =>
    withBackup(Effect.gen(function*() {
      // Planned in another order than the archive's, and one name twice: the archive's order counts.
      const items = [...names].reverse().map(planned).filter((item) => item.name !== "cm-7")
      const called: Array<string> = []
      const finished: Array<string> = []
      let active = 0
      let most = 0
      yield* forEachPlannedEntry(
        "b",
        items,
        { concurrency: 3 },
        (item, entry) =>
          Effect.succeed(Effect.gen(function*() {
            called.push(item.name)
            assert.strictEqual(entry.path, item.path)
            active += 1
            most = Math.max(most, active)
            // Later items finish first: the pass must not wait in order.
            for (let i = 0; i < (40 - Number(item.name.slice(3))) % 5; i++) yield* Effect.yieldNow()
            active -= 1
            finished.push(item.name)
          }))
      )
      const expected = names.filter((name) => name !== "cm-7")
      assert.deepStrictEqual(called, expected)
      assert.deepStrictEqual([...finished].sort(), [...expected].sort())
      assert.strictEqual(most, 3)
    })))

  it.effect("the first failed item fails the pass, and items not yet started never run", () =>
    withBackup(Effect.gen(function*() {
      const started: Array<string> = []
      const error = yield* forEachPlannedEntry(
        "b",
        names.map(planned),
        { concurrency: 2 },
        (item) =>
          Effect.succeed(Effect.gen(function*() {
            started.push(item.name)
            if (item.name === "cm-3") return yield* Effect.fail(`cannot restore ${item.name}`)
            yield* Effect.yieldNow()
          }))
      ).pipe(Effect.flip)
      assert.strictEqual(error, "cannot restore cm-3")
      assert.isBelow(started.length, 10)
      assert.notInclude(started, "cm-39")
    })))
})
