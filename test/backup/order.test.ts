// orderedResources: the --ordered-resources syntax, its validation against discovery, and the
// tarball's entry order: the named objects first, in the given order, then the rest of their
// resource as listed, each object once, whatever page or namespace list they fall in.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { parseOrderedResources } from "../../src/backup/order.ts"
import { runBackup } from "../../src/backup/run.ts"
import { configMap, deps, makeBackup, persistentVolume, readGzipText, readTarball, testLayer } from "./fixtures.ts"

describe("parseOrderedResources", () => {
  it("reads Velero's syntax into the spec's map", () => {
    assert.deepStrictEqual(
      parseOrderedResources("pods=ns1/a, ns1/b;persistentvolumes=pv1"),
      Either.right({ pods: "ns1/a,ns1/b", persistentvolumes: "pv1" })
    )
  })

  const refused: ReadonlyArray<readonly [string, string]> = [
    ["pods", "\"pods\" is not resource=names"],
    ["pods=a=b", "\"pods=a=b\" is not resource=names"],
    ["=ns/a", "\"=ns/a\" is not resource=names"],
    ["pods=ns/a,,ns/b", "\"pods=ns/a,,ns/b\" names no object, or has an empty one"],
    ["pods=", "\"pods=\" names no object, or has an empty one"],
    ["pods=a/b/c", "\"a/b/c\" in \"pods=a/b/c\" is not namespace/name or name"],
    ["pods=ns/a;pods=ns/b", "resource \"pods\" is given twice"],
    [";", "it names no resource"]
  ]
  for (const [text, problem] of refused) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.deepStrictEqual(parseOrderedResources(text), Either.left(problem))
    })
  }
})

const NAMES = Array.from({ length: 8 }, (_, i) => `cm-${i}`)
const NAMESPACES = ["a", "b"]
const keys = NAMESPACES.flatMap((ns) => NAMES.map((name) => `${ns}/${name}`))

const configMapPaths = (paths: ReadonlyArray<string>) =>
  paths.filter((path) => path.startsWith("resources/configmaps/")).map((path) =>
    path.replace("resources/configmaps/namespaces/", "").replace(/\.json$/, "")
  )

describe("a backup with orderedResources", () => {
  it.effect.prop(
    "writes the named objects first, in order, then the rest of the resource, each once",
    {
      order: fc.shuffledSubarray(keys, { minLength: 1, maxLength: 6 }),
      missing: fc.boolean(),
      perNamespace: fc.boolean(),
      pageSize: fc.integer({ min: 1, max: 5 })
    },
    ({ missing, order, pageSize, perNamespace }) =>
      Effect.gen(function*() {
        const control = yield* MemoryKube.MemoryKube
        yield* control.seed(NAMESPACES.flatMap((ns) => NAMES.map((name) => configMap(ns, name))))
        const names = missing ? [...order, "a/ghost"] : order
        const backup = yield* runBackup(
          makeBackup({
            // Named namespaces list each namespace on its own: the order still spans them.
            includedNamespaces: perNamespace ? NAMESPACES : ["*"],
            includedResources: ["configmaps"],
            orderedResources: { configmaps: names.join(",") }
          }),
          { ...deps, pageSize }
        )
        assert.strictEqual(backup.status?.phase, "Completed")
        const written = configMapPaths((yield* readTarball("b1")).paths)
        assert.deepStrictEqual(written.slice(0, order.length), order)
        assert.deepStrictEqual([...written].sort(), [...keys].sort())
        const log = yield* readGzipText(backupKeys("b1").logs)
        assert.strictEqual(log.includes("orderedResources: not found: a/ghost"), missing)
      }).pipe(Effect.provide(testLayer())),
    { fastCheck: { numRuns: 25 } }
  )

  it.effect("orders cluster-scoped objects by name, other resources untouched", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      yield* control.seed([persistentVolume("pv-a"), persistentVolume("pv-b"), persistentVolume("pv-c")])
      const backup = yield* runBackup(
        makeBackup({ includedResources: ["persistentvolumes"], orderedResources: { pv: "pv-c,pv-b" } }),
        deps
      )
      assert.strictEqual(backup.status?.phase, "Completed")
      const { paths } = yield* readTarball("b1")
      assert.deepStrictEqual(paths.filter((path) => path.startsWith("resources/persistentvolumes/")), [
        "resources/persistentvolumes/cluster/pv-c.json",
        "resources/persistentvolumes/cluster/pv-b.json",
        "resources/persistentvolumes/cluster/pv-a.json"
      ])
    }).pipe(Effect.provide(testLayer())))

  it.effect("fails validation for an unknown resource or a name that does not fit the scope", () =>
    Effect.gen(function*() {
      const backup = yield* runBackup(
        makeBackup({ orderedResources: { gizmos: "a/b", pods: "lonely", persistentvolumes: "ns/pv" } }),
        deps
      )
      assert.strictEqual(backup.status?.phase, "FailedValidation")
      assert.deepStrictEqual(backup.status?.validationErrors, [
        "orderedResources: unknown resource \"gizmos\"",
        "orderedResources: \"lonely\" of pods must be namespace/name (pods is namespaced)",
        "orderedResources: \"ns/pv\" of persistentvolumes must be a name alone (persistentvolumes is cluster-scoped)"
      ])
    }).pipe(Effect.provide(testLayer())))
})
