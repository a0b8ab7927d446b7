// Restore semantics as laws over generated clusters, filters and namespace mappings, checked
// against a small independent reference of docs/design.md, "Restore semantics" (not the
// restore's own code).
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { backupNameLabel, restoreNameLabel } from "../../src/api/index.ts"
import { deepEqual, isRecord } from "../../src/kube/json.ts"
import {
  clusterRole,
  configMap,
  deployment,
  namespace,
  persistentVolume,
  persistentVolumeClaim,
  pod,
  secret,
  widget,
  widgetCrd
} from "../backup/fixtures.ts"
import type { Cluster, World } from "./fixtures.ts"
import {
  backupSource,
  dump,
  makeRestore,
  makeWorld,
  objectKey,
  replicaSet,
  restoreInto,
  seedOwned,
  service
} from "./fixtures.ts"

const NAMESPACES = ["alpha", "beta", "gamma"] as const
const RESOURCES = [
  "configmaps",
  "secrets",
  "services",
  "deployments.apps",
  "persistentvolumeclaims",
  "persistentvolumes",
  "widgets.example.com",
  "namespaces"
] as const

const labels = fc.record({ app: fc.constantFrom("x", "y") }, { requiredKeys: [] })

const namespaceContents = fc.record({
  present: fc.boolean(),
  labels,
  configMaps: fc.array(fc.tuple(labels, fc.string({ maxLength: 4 })), { maxLength: 3 }),
  secrets: fc.integer({ min: 0, max: 1 }),
  service: fc.option(fc.constantFrom("ClusterIP", "NodePort", "Headless"), { nil: undefined }),
  deployment: fc.boolean(),
  claim: fc.boolean(),
  widgets: fc.integer({ min: 0, max: 2 })
})

const clusterArb = fc.record({
  namespaces: fc.tuple(namespaceContents, namespaceContents, namespaceContents),
  clusterRoles: fc.integer({ min: 0, max: 2 })
})
type ClusterSpec = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never

const filterArb = fc.record({
  includedNamespaces: fc.option(fc.subarray([...NAMESPACES], { minLength: 1 }), { nil: undefined }),
  includedResources: fc.option(fc.subarray([...RESOURCES], { minLength: 1 }), { nil: undefined })
})
type FilterSpec = typeof filterArb extends fc.Arbitrary<infer T> ? T : never

/** The filter as spec fields: unset ones absent, not undefined. */
const filterFields = (filter: FilterSpec) => ({
  ...(filter.includedNamespaces === undefined ? {} : { includedNamespaces: filter.includedNamespaces }),
  ...(filter.includedResources === undefined ? {} : { includedResources: filter.includedResources })
})

/** Some namespaces mapped to fresh names (injective, so objects never collide). */
const mappingArb = fc.subarray([...NAMESPACES]).map((sources) =>
  Object.fromEntries(sources.map((source) => [source, `m-${source}`]))
)

const seedCluster = (cluster: Cluster, spec: ClusterSpec) =>
  Effect.gen(function*() {
    yield* cluster.control.seed([widgetCrd()])
    for (let i = 0; i < spec.clusterRoles; i++) yield* cluster.control.seed([clusterRole(`role-${i}`)])
    for (const [index, contents] of spec.namespaces.entries()) {
      const ns = NAMESPACES[index]!
      if (!contents.present) continue
      yield* cluster.control.seed([namespace(ns, contents.labels)])
      yield* cluster.control.seed(contents.configMaps.map(([l, value], i) => configMap(ns, `cm-${i}`, l, { value })))
      for (let i = 0; i < contents.secrets; i++) yield* cluster.control.seed([secret(ns, `secret-${i}`)])
      if (contents.service !== undefined) {
        yield* cluster.control.seed([
          contents.service === "Headless"
            ? service(ns, "svc", { clusterIP: "None", clusterIPs: ["None"] })
            : service(ns, "svc", {
              type: contents.service,
              ports: [{ name: "http", port: 80, ...(contents.service === "NodePort" ? { nodePort: 30080 } : {}) }]
            })
        ])
      }
      if (contents.deployment) {
        const d = yield* seedOwned(cluster, deployment(ns, "web"))
        const rs = yield* seedOwned(cluster, replicaSet(ns, "web-1"), d)
        yield* seedOwned(cluster, pod(ns, "web-1-a"), rs)
      }
      if (contents.claim) {
        const pv = persistentVolume(`pv-${ns}`)
        yield* cluster.control.seed([
          {
            ...pv,
            spec: {
              ...(pv["spec"] as object),
              claimRef: { kind: "PersistentVolumeClaim", namespace: ns, name: "data", uid: "old-uid" }
            }
          },
          persistentVolumeClaim(ns, "data", `pv-${ns}`)
        ])
      }
      for (let i = 0; i < contents.widgets; i++) yield* cluster.control.seed([widget(ns, `w-${i}`)])
    }
  })

// ---- the reference -------------------------------------------------------------------------

const INITIAL = new Set(["default", "kube-node-lease", "kube-public", "kube-system"])

interface Expected {
  readonly resource: string
  readonly namespace: string | undefined
  readonly name: string
  readonly source: KubeObject
}

const mapped = (mapping: Record<string, string>, ns: string) => mapping[ns] ?? ns

/** What the restore semantics say lands in an empty cluster, from the source cluster's objects. */
const expectedObjects = (
  source: ReadonlyMap<string, KubeObject>,
  filter: FilterSpec,
  mapping: Record<string, string>
): ReadonlyArray<Expected> => {
  const nsOk = (ns: string) =>
    filter.includedNamespaces === undefined || filter.includedNamespaces.includes(ns as never)
  const resourceOk = (resource: string) =>
    filter.includedResources === undefined || filter.includedResources.includes(resource as never)
  const allScope = filter.includedNamespaces === undefined
  const out: Array<Expected> = []
  const pvs = new Set<string>()
  let widgets = false
  for (const [key, object] of source) {
    const [resource = ""] = key.split(" ")
    const ns = object.metadata.namespace
    if (ns === undefined || resource === "events" || resource === "replicasets.apps" || resource === "pods") continue
    if (!nsOk(ns) || !resourceOk(resource)) continue
    if (resource === "persistentvolumeclaims") {
      pvs.add(String((object["spec"] as Record<string, unknown>)["volumeName"]))
    }
    if (resource === "widgets.example.com") widgets = true
    out.push({ resource, namespace: mapped(mapping, ns), name: object.metadata.name ?? "", source: object })
  }
  const crd = widgets && filter.includedResources === undefined
  for (const [key, object] of source) {
    const [resource = ""] = key.split(" ")
    const name = object.metadata.name ?? ""
    if (object.metadata.namespace !== undefined) continue
    const include = resource === "namespaces"
      ? resourceOk("namespaces") && nsOk(name)
      : resource === "persistentvolumes"
      ? resourceOk(resource) && (allScope || pvs.has(name))
      : resource === "customresourcedefinitions.apiextensions.k8s.io"
      ? filter.includedResources === undefined && (allScope || widgets)
      : allScope && filter.includedResources === undefined
    if (include) {
      out.push({
        resource,
        namespace: undefined,
        name: resource === "namespaces" ? mapped(mapping, name) : name,
        source: object
      })
    }
  }
  // A custom resource whose CRD is not restored cannot be created in an empty cluster.
  return out.filter((item) => item.resource !== "widgets.example.com" || crd)
}

const withoutKeys = (record: Record<string, unknown>, keys: ReadonlyArray<string>) =>
  Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)))

/**
 * The user's content of an object, with what the restore transforms clear cleared (written
 * independently of transforms.ts).
 */
const essence = (resource: string, object: KubeObject, mapping: Record<string, string>): unknown => {
  const labelsOf = withoutKeys(object.metadata.labels ?? {}, [
    restoreNameLabel,
    backupNameLabel,
    "kubernetes.io/metadata.name"
  ])
  const body: Record<string, unknown> = withoutKeys(object, ["apiVersion", "metadata", "status"])
  const spec = isRecord(body["spec"]) ? { ...body["spec"] } : undefined
  if (resource === "services" && spec !== undefined) {
    if (spec["clusterIP"] !== "None") {
      delete spec["clusterIP"]
      delete spec["clusterIPs"]
    }
    spec["ports"] = (spec["ports"] as Array<Record<string, unknown>>).map((port) => withoutKeys(port, ["nodePort"]))
  }
  if (resource === "persistentvolumes" && spec !== undefined && isRecord(spec["claimRef"])) {
    const claimRef = spec["claimRef"]
    spec["claimRef"] = {
      ...withoutKeys(claimRef, ["uid", "resourceVersion"]),
      namespace: mapped(mapping, String(claimRef["namespace"]))
    }
  }
  return {
    ...body,
    ...(spec === undefined ? {} : { spec }),
    labels: labelsOf,
    annotations: object.metadata.annotations ?? {}
  }
}

const restoredByArk = (object: KubeObject) => object.metadata.labels?.[restoreNameLabel] !== undefined

const seeded = (spec: ClusterSpec) =>
  Effect.gen(function*() {
    const world = yield* makeWorld
    yield* seedCluster(world.source, spec)
    return world
  })

const fullBackup = (world: World) =>
  Effect.gen(function*() {
    const backup = yield* backupSource(world)
    assert.strictEqual(backup.status?.phase, "Completed")
    return backup
  })

const runs = { timeout: 120_000, fastCheck: { numRuns: 30 } }

describe("restore laws (property)", () => {
  it.effect.prop(
    "restore(backup(S)) into an empty cluster reproduces S's selected objects up to the documented transforms, each in its mapped namespace, and nothing else moves",
    { spec: clusterArb, filter: filterArb, mapping: mappingArb },
    ({ spec, filter, mapping }) =>
      Effect.gen(function*() {
        const world = yield* seeded(spec)
        const backup = yield* fullBackup(world)
        const source = yield* dump(world.source)
        const before = yield* dump(world.target)
        const restore = makeRestore({ ...filterFields(filter), namespaceMapping: mapping })
        yield* restoreInto(world.target, world, restore, backup)
        const target = yield* dump(world.target)
        const expected = expectedObjects(source, filter, mapping)
        const expectedKeys = new Set<string>()
        for (const item of expected) {
          const key = objectKey(item.resource, item.namespace, item.name)
          expectedKeys.add(key)
          const live = target.get(key)
          assert.isDefined(live, `missing ${key}`)
          if (item.resource === "namespaces" && INITIAL.has(item.name)) continue
          assert.deepStrictEqual(
            essence(item.resource, live!, mapping),
            essence(item.resource, item.source, mapping),
            key
          )
          assert.strictEqual(live!.metadata.labels?.[restoreNameLabel], "r1", key)
          assert.strictEqual(live!.metadata.labels?.[backupNameLabel], "b1", key)
        }
        for (const [key, object] of target) {
          if (before.has(key) || expectedKeys.has(key)) continue
          // The only extra objects: plain namespaces for mapped or unselected targets of restored items.
          assert.strictEqual(object.kind, "Namespace", `unexpected ${key}`)
          assert.isTrue(restoredByArk(object), key)
          assert.isTrue(expected.some((item) => item.namespace === object.metadata.name), `unneeded namespace ${key}`)
        }
        // Every namespaced restored object sits in the mapped namespace of where it was backed up.
        for (const item of expected) {
          if (item.namespace !== undefined) {
            assert.strictEqual(item.namespace, mapped(mapping, item.source.metadata.namespace ?? ""))
          }
        }
      }),
    runs
  )

  it.effect.prop(
    "restoring twice changes nothing the second time",
    { spec: clusterArb, filter: filterArb, mapping: mappingArb, update: fc.boolean() },
    ({ spec, filter, mapping, update }) =>
      Effect.gen(function*() {
        const world = yield* seeded(spec)
        const backup = yield* fullBackup(world)
        const policy = update ? "update" : "none"
        const first = yield* restoreInto(
          world.target,
          world,
          makeRestore({ ...filterFields(filter), namespaceMapping: mapping, existingResourcePolicy: policy }),
          backup
        )
        const revision = yield* world.target.control.currentRevision
        const second = yield* restoreInto(
          world.target,
          world,
          makeRestore({ ...filterFields(filter), namespaceMapping: mapping, existingResourcePolicy: policy }, "r2"),
          backup
        )
        assert.strictEqual(yield* world.target.control.currentRevision, revision)
        assert.strictEqual(second.counts.created, 0)
        assert.strictEqual(second.counts.updated, 0)
        assert.strictEqual(second.counts.differs, 0)
        assert.strictEqual(second.restore.status?.warnings, 0)
        assert.strictEqual(
          second.counts.unchanged,
          first.counts.created + first.counts.unchanged + first.counts.updated
        )
        assert.strictEqual(second.restore.status?.phase, first.restore.status?.phase)
      }),
    runs
  )

  it.effect.prop(
    "with policy none, no pre-existing object is ever modified",
    {
      spec: clusterArb,
      mapping: mappingArb,
      conflicts: fc.array(fc.tuple(fc.constantFrom(...NAMESPACES), fc.integer({ min: 0, max: 2 })), { maxLength: 4 })
    },
    ({ spec, mapping, conflicts }) =>
      Effect.gen(function*() {
        const world = yield* seeded(spec)
        const backup = yield* fullBackup(world)
        const preexisting = new Map<string, KubeObject>()
        for (const [ns, i] of conflicts) {
          const target = mapped(mapping, ns)
          const key = objectKey("configmaps", target, `cm-${i}`)
          if (preexisting.has(key)) continue
          const [created] = yield* world.target.control.seed([
            configMap(target, `cm-${i}`, { live: "yes" }, { value: "live" })
          ])
          preexisting.set(key, created!)
        }
        const before = yield* dump(world.target)
        const run = yield* restoreInto(world.target, world, makeRestore({ namespaceMapping: mapping }), backup)
        const target = yield* dump(world.target)
        // Everything that was there before (the seeded configmaps, their namespaces, the initial ones) is untouched.
        for (const [key, object] of before) {
          assert.strictEqual(target.get(key)?.metadata.resourceVersion, object.metadata.resourceVersion, key)
        }
        for (const [key, object] of preexisting) {
          const now = target.get(key)
          assert.strictEqual(now?.metadata.resourceVersion, object.metadata.resourceVersion, key)
          assert.isTrue(deepEqual(now, object), key)
        }
        const clashing = [...preexisting.keys()].filter((key) => {
          const [, rest = ""] = key.split(" ")
          const [ns = "", name = ""] = rest.split("/")
          const sourceNs = Object.entries(mapping).find(([, to]) => to === ns)?.[0] ?? ns
          return spec.namespaces[NAMESPACES.indexOf(sourceNs as never)]?.present === true &&
            Number(name.slice(3)) < (spec.namespaces[NAMESPACES.indexOf(sourceNs as never)]?.configMaps.length ?? 0)
        })
        // Each seeded configmap that the backup also has differs (plus, perhaps, the namespace the seed created plain).
        assert.isAtLeast(run.counts.differs, clashing.length)
        assert.strictEqual(run.restore.status?.warnings, run.counts.differs)
      }),
    runs
  )

  it.effect.prop(
    "filters commute: restore(backup(S), F) == restore(backup(S, F))",
    { spec: clusterArb, filter: filterArb },
    ({ spec, filter }) =>
      Effect.gen(function*() {
        const world = yield* seeded(spec)
        const whole = yield* fullBackup(world)
        const filtered = yield* backupSource(world, filterFields(filter), "b2")
        assert.strictEqual(filtered.status?.phase, "Completed")
        const other = yield* makeWorld
        const first = yield* restoreInto(world.target, world, makeRestore(filterFields(filter)), whole)
        const second = yield* restoreInto(other.target, world, makeRestore({ backupName: "b2" }), filtered)
        assert.strictEqual(first.restore.status?.phase, second.restore.status?.phase)
        const view = (objects: ReadonlyMap<string, KubeObject>) =>
          new Map([...objects].map(([key, object]) => [key, essence(key.split(" ")[0] ?? "", object, {})]))
        const a = view(yield* dump(world.target))
        const b = view(yield* dump(other.target))
        assert.deepStrictEqual([...a.keys()].sort(), [...b.keys()].sort())
        for (const [key, value] of a) assert.deepStrictEqual(value, b.get(key), key)
      }),
    runs
  )
})
