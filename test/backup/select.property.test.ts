// The tarball holds exactly what the filters select, at exactly the right paths, each object as
// the server had it — checked against a small reference implementation of the selection rules.
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, FastCheck as fc, Stream } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { runBackup } from "../../src/backup/run.ts"
import { deepEqual } from "../../src/kube/json.ts"
import {
  clusterRole,
  configMap,
  deployment,
  deps,
  makeBackup,
  namespace,
  persistentVolume,
  persistentVolumeClaim,
  pod,
  readTarball,
  secret,
  testLayer,
  widget,
  widgetCrd
} from "./fixtures.ts"

type Labels = Record<string, string>

const labels: fc.Arbitrary<Labels> = fc.record(
  { app: fc.constantFrom("x", "y"), tier: fc.constantFrom("web", "db") },
  { requiredKeys: [] }
)

const NAMESPACES = ["a", "b", "c"]
const PVS = ["pv-0", "pv-1", "pv-2", "pv-3"]

const namespacedObject = fc.tuple(
  fc.constantFrom(...NAMESPACES),
  fc.constantFrom("configmap", "secret", "pod", "deployment", "pvc", "widget"),
  fc.integer({ min: 0, max: 5 }),
  labels,
  fc.option(fc.constantFrom(...PVS), { nil: undefined })
).map(([ns, kind, n, objectLabels, volume]): KubeObject => {
  const name = `${kind}-${n}`
  switch (kind) {
    case "configmap":
      return configMap(ns, name, objectLabels, { n: String(n) })
    case "secret":
      return secret(ns, name, objectLabels)
    case "pod":
      return pod(ns, name, objectLabels)
    case "deployment":
      return deployment(ns, name, objectLabels)
    case "pvc":
      return persistentVolumeClaim(ns, name, volume, objectLabels)
    default:
      return widget(ns, name, objectLabels)
  }
})

const cluster = fc.record({
  namespaceLabels: fc.tuple(labels, labels, labels),
  objects: fc.uniqueArray(namespacedObject, {
    maxLength: 30,
    selector: (object) => `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`
  }),
  pvLabels: fc.tuple(labels, labels, labels, labels),
  clusterRoles: fc.array(labels, { maxLength: 3 })
})

/** Resource names as a user writes them, and the group-resource each means. */
const RESOURCE_NAMES: Record<string, string> = {
  configmaps: "configmaps",
  secret: "secrets",
  deploy: "deployments.apps",
  pods: "pods",
  pvc: "persistentvolumeclaims",
  persistentvolumes: "persistentvolumes",
  "widgets.example.com": "widgets.example.com",
  Widget: "widgets.example.com",
  namespaces: "namespaces",
  crd: "customresourcedefinitions.apiextensions.k8s.io",
  "clusterroles.rbac.authorization.k8s.io": "clusterroles.rbac.authorization.k8s.io"
}

const selectorSpec = fc.oneof(
  fc.constant({}),
  fc.record({ labelSelector: fc.record({ matchLabels: fc.record({ app: fc.constantFrom("x", "y") }) }) }),
  fc.record({
    labelSelector: fc.record({
      matchExpressions: fc.constant([{ key: "tier", operator: "In" as const, values: ["db"] }])
    })
  }),
  fc.record({
    orLabelSelectors: fc.constant([{ matchLabels: { app: "x" } }, { matchLabels: { tier: "db" } }])
  })
)

const filters = fc.record({
  includedNamespaces: fc.oneof(fc.constant(["*"]), fc.subarray(NAMESPACES, { minLength: 1 })),
  excludedNamespaces: fc.subarray([...NAMESPACES, "default"]),
  includedResources: fc.oneof(fc.constant(["*"]), fc.subarray(Object.keys(RESOURCE_NAMES), { minLength: 1 })),
  excludedResources: fc.subarray(Object.keys(RESOURCE_NAMES), { maxLength: 2 }),
  includeClusterResources: fc.constantFrom(true, false, undefined),
  selectors: selectorSpec
}).map((f) => {
  // Keep the spec valid: nothing both included and excluded.
  const includedResources = new Set(f.includedResources.map((name) => RESOURCE_NAMES[name] ?? name))
  return {
    includedNamespaces: f.includedNamespaces,
    excludedNamespaces: f.excludedNamespaces.filter((ns) => !f.includedNamespaces.includes(ns)),
    includedResources: f.includedResources,
    excludedResources: f.excludedResources.filter((name) => !includedResources.has(RESOURCE_NAMES[name]!)),
    ...(f.includeClusterResources === undefined ? {} : { includeClusterResources: f.includeClusterResources }),
    ...f.selectors
  }
})

type FilterSpec = typeof filters extends fc.Arbitrary<infer T> ? T : never

/** The resource selection rules (docs/design.md), written out plainly. */
const expectedPaths = (
  spec: FilterSpec,
  server: ReadonlyArray<{ readonly gr: string; readonly namespaced: boolean; readonly object: KubeObject }>
) => {
  const included = spec.includedResources.includes("*")
    ? undefined
    : new Set(spec.includedResources.map((name) => RESOURCE_NAMES[name]))
  const excluded = new Set(spec.excludedResources.map((name) => RESOURCE_NAMES[name]))
  const resourceIncluded = (gr: string) =>
    (included === undefined || included.has(gr)) && !excluded.has(gr) && gr !== "events"
  const nsIncluded = (ns: string) =>
    (spec.includedNamespaces.includes("*") || spec.includedNamespaces.includes(ns)) &&
    !spec.excludedNamespaces.includes(ns)
  const matchOne = (
    selector: {
      matchLabels?: Labels
      matchExpressions?: ReadonlyArray<{ key: string; values: ReadonlyArray<string> }>
    },
    l: Labels
  ) =>
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => l[k] === v) &&
    (selector.matchExpressions ?? []).every((e) => l[e.key] !== undefined && e.values.includes(l[e.key]!))
  const selects = (object: KubeObject) => {
    const l: Labels = { ...object.metadata.labels }
    if ("labelSelector" in spec) return matchOne(spec.labelSelector, l)
    if ("orLabelSelectors" in spec) return spec.orLabelSelectors.some((s) => matchOne(s, l))
    return true
  }
  const allNamespaces = spec.includedNamespaces.includes("*") && spec.excludedNamespaces.length === 0
  const scope = spec.includeClusterResources === true
    ? "all"
    : spec.includeClusterResources === false
    ? "none"
    : allNamespaces
    ? "all"
    : "related"

  const paths = new Set<string>()
  const path = (gr: string, object: KubeObject, namespaced: boolean) =>
    namespaced
      ? `resources/${gr}/namespaces/${object.metadata.namespace}/${object.metadata.name}.json`
      : `resources/${gr}/cluster/${object.metadata.name}.json`
  const namespacedIncluded = server.filter(({ gr, namespaced, object }) =>
    namespaced && resourceIncluded(gr) && nsIncluded(object.metadata.namespace!) && selects(object)
  )
  for (const { gr, object } of namespacedIncluded) paths.add(path(gr, object, true))
  const boundPvs = new Set(
    namespacedIncluded.filter(({ gr }) => gr === "persistentvolumeclaims").map(({ object }) =>
      (object["spec"] as { volumeName?: string }).volumeName
    )
  )
  const withItems = new Set(namespacedIncluded.map(({ object }) => object.metadata.namespace))
  const groupResources = new Set(namespacedIncluded.map(({ gr }) => gr))
  for (const { gr, namespaced, object } of server) {
    if (namespaced || !resourceIncluded(gr)) continue
    const name = object.metadata.name!
    const take = gr === "namespaces"
      ? nsIncluded(name) && (selects(object) || withItems.has(name))
      : scope === "none"
      ? false
      : (scope === "all" && selects(object)) ||
        (gr === "persistentvolumes" && boundPvs.has(name)) ||
        (gr === "customresourcedefinitions.apiextensions.k8s.io" && groupResources.has(name))
    if (take) paths.add(path(gr, object, false))
  }
  return paths
}

const RESOURCES: ReadonlyArray<
  { readonly gvr: GroupVersionResource; readonly gr: string; readonly namespaced: boolean }
> = [
  { gvr: { group: "", version: "v1", resource: "namespaces" }, gr: "namespaces", namespaced: false },
  { gvr: { group: "", version: "v1", resource: "configmaps" }, gr: "configmaps", namespaced: true },
  { gvr: { group: "", version: "v1", resource: "secrets" }, gr: "secrets", namespaced: true },
  { gvr: { group: "", version: "v1", resource: "pods" }, gr: "pods", namespaced: true },
  { gvr: { group: "apps", version: "v1", resource: "deployments" }, gr: "deployments.apps", namespaced: true },
  {
    gvr: { group: "", version: "v1", resource: "persistentvolumeclaims" },
    gr: "persistentvolumeclaims",
    namespaced: true
  },
  { gvr: { group: "", version: "v1", resource: "persistentvolumes" }, gr: "persistentvolumes", namespaced: false },
  { gvr: { group: "example.com", version: "v1", resource: "widgets" }, gr: "widgets.example.com", namespaced: true },
  {
    gvr: { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" },
    gr: "customresourcedefinitions.apiextensions.k8s.io",
    namespaced: false
  },
  {
    gvr: { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles" },
    gr: "clusterroles.rbac.authorization.k8s.io",
    namespaced: false
  }
]

describe("backup selection (property)", () => {
  it.effect.prop(
    "the tarball holds exactly the selected objects, at their paths, as the server had them",
    { cluster, spec: filters },
    ({ cluster: generated, spec }) =>
      Effect.gen(function*() {
        const control = yield* MemoryKube.MemoryKube
        const kube = yield* KubeClient
        yield* control.seed([
          widgetCrd(),
          ...NAMESPACES.map((name, i) => namespace(name, generated.namespaceLabels[i])),
          ...PVS.map((name, i) => persistentVolume(name, generated.pvLabels[i])),
          ...generated.clusterRoles.map((l, i) => clusterRole(`role-${i}`, l))
        ])
        yield* control.seed(generated.objects)

        const backup = yield* runBackup(makeBackup(spec), deps)
        assert.strictEqual(backup.status?.phase, "Completed", JSON.stringify(backup.status))

        const server: Array<{ gr: string; namespaced: boolean; object: KubeObject }> = []
        for (const { gvr, gr, namespaced } of RESOURCES) {
          const pages = yield* Stream.runCollect(
            kube.listPages(gvr, {
              resourceVersion: backup.status?.resourceVersion ?? "",
              resourceVersionMatch: "Exact"
            })
          )
          for (const page of Chunk.toReadonlyArray(pages)) {
            for (const object of page.items) server.push({ gr, namespaced, object })
          }
        }
        const expected = expectedPaths(spec, server)
        const { paths, objects } = yield* readTarball("b1")
        assert.deepStrictEqual(paths.slice(1).sort(), [...expected].sort())
        assert.strictEqual(new Set(paths).size, paths.length)
        for (const { gr, namespaced, object } of server) {
          const at = namespaced
            ? `resources/${gr}/namespaces/${object.metadata.namespace}/${object.metadata.name}.json`
            : `resources/${gr}/cluster/${object.metadata.name}.json`
          if (expected.has(at)) assert.isTrue(deepEqual(objects.get(at), object), at)
        }
      }).pipe(Effect.provide(testLayer())),
    { fastCheck: { numRuns: 60 }, timeout: 120_000 }
  )
})
