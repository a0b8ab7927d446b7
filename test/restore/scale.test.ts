// 10k objects restore on the Memory layers with bounded passes over the tarball.
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"

import { backupKeys } from "../../src/archive/layout.ts"
import { configMap, namespace } from "../backup/fixtures.ts"
import type { World } from "./fixtures.ts"
import { backupSource, makeRestore, makeWorld, restoreInto } from "./fixtures.ts"

/** The world, with its store counting each read of `key` as it starts. */
const countingReads = (world: World, key: string) => {
  const reads = { count: 0 }
  const counted: World = {
    ...world,
    store: {
      ...world.store,
      get: (read) =>
        Stream.unwrap(Effect.sync(() => {
          if (read === key) reads.count += 1
          return world.store.get(read)
        }))
    }
  }
  return { counted, reads }
}

describe("restore at scale", () => {
  // How fast is for bench/: here, that 10k objects all arrive in a number of passes that does not grow with them.
  it.live("restores 10k objects across several levels, reading the tarball once per level and once to plan", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const objects = [namespace("big")]
      for (let i = 0; i < 10_000; i++) {
        objects.push(configMap("big", `cm-${i}`, { app: "x" }, { value: String(i).repeat(20) }))
      }
      yield* world.source.control.seed(objects)
      const backup = yield* backupSource(world, { includedNamespaces: ["big"] })
      const { counted, reads } = countingReads(world, backupKeys("b1").tarball)
      const run = yield* restoreInto(
        counted.target,
        counted,
        makeRestore({ namespaceMapping: { big: "copy" } }),
        backup,
        {
          concurrency: 32
        }
      )
      assert.strictEqual(run.restore.status?.phase, "Completed")
      assert.strictEqual(run.counts.created, 10_001)
      // The plan's pass, then one per level with items: the Namespace, then the ConfigMaps.
      assert.strictEqual(reads.count, 3)
      const pages = yield* Stream.runCollect(
        world.target.client.listPages({ group: "", version: "v1", resource: "configmaps" }, { namespace: "copy" })
      )
      const restored = Chunk.toReadonlyArray(pages).flatMap((page) => page.items.map((item) => item.metadata.name))
      assert.sameMembers(restored, objects.slice(1).map((object) => object.metadata.name))
    }))
})
