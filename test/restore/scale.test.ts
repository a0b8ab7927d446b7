// 10k objects restore on the Memory layers with bounded passes over the tarball.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

import { configMap, namespace } from "../backup/fixtures.ts"
import { backupSource, makeRestore, makeWorld, restoreInto } from "./fixtures.ts"

describe("restore at scale", () => {
  it.live("restores 10k objects across several levels", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const objects = [namespace("big")]
      for (let i = 0; i < 10_000; i++) {
        objects.push(configMap("big", `cm-${i}`, { app: "x" }, { value: String(i).repeat(20) }))
      }
      yield* world.source.control.seed(objects)
      const backup = yield* backupSource(world, { includedNamespaces: ["big"] })
      const started = performance.now()
      const run = yield* restoreInto(world.target, world, makeRestore({ namespaceMapping: { big: "copy" } }), backup, {
        concurrency: 32
      })
      const seconds = (performance.now() - started) / 1000
      assert.strictEqual(run.restore.status?.phase, "Completed")
      assert.strictEqual(run.counts.created, 10_001)
      // Baseline: the same creates, straight to a fresh fake API server.
      const baseline = yield* makeWorld
      const plain = objects.map((object) => ({ ...object, metadata: { ...object.metadata, namespace: "copy" } }))
      const baselineStart = performance.now()
      yield* baseline.target.control.seed([namespace("copy")])
      // plain[0] is the namespace.
      yield* Effect.forEach(plain.slice(1), (object) =>
        baseline.target.client.create({ group: "", version: "v1", resource: "configmaps" }, object), {
        concurrency: 32,
        discard: true
      })
      const baselineSeconds = (performance.now() - baselineStart) / 1000
      console.log(
        `restored 10001 objects in ${seconds.toFixed(2)}s; the same plain creates ${baselineSeconds.toFixed(2)}s`
      )
      assert.isBelow(seconds, 20)
    }), 120_000)
})
