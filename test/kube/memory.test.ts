import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Fiber, Option, Stream, TestClock } from "effect"

import * as Memory from "../../layers/kube/Memory.ts"
import type { GroupVersionResource, KubeObject, ListOptions, WatchEvent } from "../../services/KubeClient.ts"
import { KubeClient, KubeUnavailable } from "../../services/KubeClient.ts"

const NAMESPACES: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
const CONFIGMAPS: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }
const PODS: GroupVersionResource = { group: "", version: "v1", resource: "pods" }
const DEPLOYMENTS: GroupVersionResource = { group: "apps", version: "v1", resource: "deployments" }
const PVS: GroupVersionResource = { group: "", version: "v1", resource: "persistentvolumes" }
const CRDS: GroupVersionResource = {
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions"
}

const configMap = (
  name: string,
  namespace = "default",
  labels: Record<string, string> = {},
  data: Record<string, string> = {}
): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, labels },
  data
})

const namespace = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })

const widgetCrd = (group: string, versions: ReadonlyArray<string>, scope = "Namespaced"): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope,
    names: { plural: "widgets", kind: "Widget", shortNames: ["wdg"] },
    versions: versions.map((name, i) => ({ name, served: true, storage: i === 0, subresources: { status: {} } }))
  }
})

const collect = (stream: Stream.Stream<WatchEvent, unknown>, n: number) =>
  stream.pipe(Stream.take(n), Stream.runCollect, Effect.map((chunk) => Chunk.toReadonlyArray(chunk)))

const summary = (events: ReadonlyArray<WatchEvent>) =>
  events.map((event) => `${event.type} ${event.object.metadata.name} ${JSON.stringify(event.object["data"] ?? {})}`)

/** Runs a test against a fresh fake cluster. */
const withKube = <A, E, R>(
  body: (kube: KubeClient.Shape, control: Memory.MemoryKubeControl) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const { client, control } = yield* Memory.make
    return yield* body(client, control)
  })

const listAll = (kube: KubeClient.Shape, gvr: GroupVersionResource, options: ListOptions = {}) =>
  Stream.runCollect(kube.listPages(gvr, options)).pipe(Effect.map((chunk) => Chunk.toReadonlyArray(chunk)))

const itemNames = (pages: ReadonlyArray<{ readonly items: ReadonlyArray<KubeObject> }>) =>
  pages.flatMap((page) => page.items.map((item) => `${item.metadata.namespace ?? ""}/${item.metadata.name}`))

describe("Memory KubeClient: metadata", () => {
  it.effect("stamps uid, creationTimestamp from the Clock, generation 1, and a global revision", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        yield* TestClock.adjust("1000 seconds")
        const start = Number(yield* control.currentRevision)
        const a = yield* kube.create(CONFIGMAPS, configMap("a"))
        const pv = yield* kube.create(PVS, { apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "pv1" } })
        assert.strictEqual(a.metadata.creationTimestamp, "1970-01-01T00:16:40Z")
        assert.strictEqual(a.metadata.generation, 1)
        assert.match(a.metadata.uid ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/)
        assert.notStrictEqual(a.metadata.uid, pv.metadata.uid)
        assert.strictEqual(a.metadata.resourceVersion, String(start + 1))
        assert.strictEqual(pv.metadata.resourceVersion, String(start + 2))
        assert.strictEqual(yield* control.currentRevision, String(start + 2))
      })
    ))

  it.effect("two fake clusters never share uids", () =>
    Effect.gen(function*() {
      const one = yield* Memory.make
      const two = yield* Memory.make
      const a = yield* one.client.create(CONFIGMAPS, configMap("a"))
      const b = yield* two.client.create(CONFIGMAPS, configMap("a"))
      assert.notStrictEqual(a.metadata.uid, b.metadata.uid)
    }))

  it.effect("ignores client-set server fields, and rejects a resourceVersion on create", () =>
    withKube((kube) =>
      Effect.gen(function*() {
        const created = yield* kube.create(CONFIGMAPS, {
          ...configMap("a"),
          metadata: {
            name: "a",
            namespace: "default",
            uid: "mine",
            generation: 7,
            creationTimestamp: "2000-01-01T00:00:00Z"
          }
        })
        assert.notStrictEqual(created.metadata.uid, "mine")
        assert.strictEqual(created.metadata.generation, 1)
        assert.strictEqual(created.metadata.creationTimestamp, "1970-01-01T00:00:00Z")
        const withRv = yield* Effect.flip(
          kube.create(CONFIGMAPS, {
            ...configMap("b"),
            metadata: { name: "b", namespace: "default", resourceVersion: "5" }
          })
        )
        assert.strictEqual(withRv._tag, "KubeInvalid")
      })
    ))

  it.effect("bumps generation on spec changes only; a no-op update writes nothing", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const deployment: KubeObject = {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web", namespace: "default" },
          spec: { replicas: 1 },
          status: { replicas: 5 }
        }
        const created = yield* kube.create(DEPLOYMENTS, deployment)
        assert.isUndefined(created["status"], "status subresource: create drops status")
        const relabelled = yield* kube.update(DEPLOYMENTS, {
          ...created,
          metadata: { ...created.metadata, labels: { a: "b" } }
        })
        assert.strictEqual(relabelled.metadata.generation, 1)
        const scaled = yield* kube.update(DEPLOYMENTS, { ...relabelled, spec: { replicas: 3 } })
        assert.strictEqual(scaled.metadata.generation, 2)
        const status = yield* kube.updateStatus(DEPLOYMENTS, { ...scaled, status: { replicas: 3 } })
        assert.strictEqual(status.metadata.generation, 2)
        assert.deepStrictEqual(status["status"], { replicas: 3 })
        const before = yield* control.currentRevision
        const same = yield* kube.update(DEPLOYMENTS, status)
        assert.strictEqual(same.metadata.resourceVersion, status.metadata.resourceVersion)
        assert.strictEqual(yield* control.currentRevision, before)
      })
    ))

  it.effect("updateStatus and patchStatus need a status subresource", () =>
    withKube((kube) =>
      Effect.gen(function*() {
        const cm = yield* kube.create(CONFIGMAPS, configMap("a"))
        assert.strictEqual((yield* Effect.flip(kube.updateStatus(CONFIGMAPS, cm)))._tag, "KubeNotFound")
        const patched = yield* Effect.flip(
          kube.patchStatus(CONFIGMAPS, "a", { type: "merge", body: { status: {} } }, "default")
        )
        assert.strictEqual(patched._tag, "KubeNotFound")
      })
    ))

  it.effect("generateName gives distinct names in the apiserver's alphabet", () =>
    withKube((kube) =>
      Effect.gen(function*() {
        const made = yield* Effect.forEach(Array.from({ length: 50 }), () =>
          kube.create(CONFIGMAPS, {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { generateName: "x-", namespace: "default" }
          }))
        const generated = made.map((object) => object.metadata.name ?? "")
        assert.strictEqual(new Set(generated).size, 50)
        for (const name of generated) assert.match(name, /^x-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
      })
    ))

  it.effect("validates names, kinds and scope", () =>
    withKube((kube) =>
      Effect.gen(function*() {
        const tag = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
          Effect.flip(effect).pipe(Effect.map((e) => e._tag))
        assert.strictEqual(yield* tag(kube.create(CONFIGMAPS, configMap("Bad_Name"))), "KubeInvalid")
        assert.strictEqual(yield* tag(kube.create(CONFIGMAPS, { ...configMap("a"), kind: "Secret" })), "KubeInvalid")
        assert.strictEqual(
          yield* tag(kube.create(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } })),
          "KubeInvalid"
        )
        assert.strictEqual(
          yield* tag(
            kube.create(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "default" } })
          ),
          "KubeInvalid"
        )
        assert.strictEqual(yield* tag(kube.create(NAMESPACES, namespace("has.dot"))), "KubeInvalid")
        assert.strictEqual(
          yield* tag(kube.get({ group: "apps", version: "v1beta1", resource: "deployments" }, "x", "default")),
          "KubeNotFound"
        )
        // RBAC names are path segments.
        const role = yield* kube.create(
          { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles" },
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: "system:ark:reader" }
          }
        )
        assert.strictEqual(role.metadata.name, "system:ark:reader")
        // Cluster-scoped: a namespace in the object is dropped, and ignored on reads.
        const pv = yield* kube.create(PVS, {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: "pv", namespace: "default" }
        })
        assert.isUndefined(pv.metadata.namespace)
        assert.strictEqual((yield* kube.get(PVS, "pv", "anything")).metadata.uid, pv.metadata.uid)
      })
    ))

  it.effect("a new namespace is Active and labelled with its name, next to the initial namespaces", () =>
    withKube((kube) =>
      Effect.gen(function*() {
        const created = yield* kube.create(NAMESPACES, namespace("team-a"))
        assert.deepStrictEqual(created.metadata.labels, { "kubernetes.io/metadata.name": "team-a" })
        assert.deepStrictEqual(created["status"], { phase: "Active" })
        const all = yield* listAll(kube, NAMESPACES)
        assert.deepStrictEqual(itemNames(all), [
          "/default",
          "/kube-node-lease",
          "/kube-public",
          "/kube-system",
          "/team-a"
        ])
      })
    ))
})

describe("Memory KubeClient: finalizers and cascades", () => {
  it.effect("a finalizer holds the object; no new finalizers while deleting; a second delete changes nothing", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        yield* TestClock.adjust("60 seconds")
        yield* kube.create(CONFIGMAPS, {
          ...configMap("held"),
          metadata: { name: "held", namespace: "default", finalizers: ["a", "b"] }
        })
        yield* kube.delete(CONFIGMAPS, "held", "default")
        const held = yield* kube.get(CONFIGMAPS, "held", "default")
        assert.strictEqual(held.metadata.deletionTimestamp, "1970-01-01T00:01:00Z")
        const revision = yield* control.currentRevision
        yield* kube.delete(CONFIGMAPS, "held", "default")
        assert.strictEqual(yield* control.currentRevision, revision)
        const added = yield* Effect.flip(
          kube.update(CONFIGMAPS, { ...held, metadata: { ...held.metadata, finalizers: ["a", "b", "c"] } })
        )
        assert.strictEqual(added._tag, "KubeInvalid")
        const one = yield* kube.update(CONFIGMAPS, { ...held, metadata: { ...held.metadata, finalizers: ["b"] } })
        assert.strictEqual(one.metadata.deletionTimestamp, held.metadata.deletionTimestamp)
        yield* kube.patch(
          CONFIGMAPS,
          "held",
          { type: "json", ops: [{ op: "remove", path: "/metadata/finalizers" }] },
          "default"
        )
        assert.strictEqual((yield* Effect.flip(kube.get(CONFIGMAPS, "held", "default")))._tag, "KubeNotFound")
      })
    ))

  it.effect("deleting a namespace deletes its objects at once (the real namespace controller does it later)", () =>
    withKube((kube) =>
      Effect.gen(function*() {
        yield* kube.create(NAMESPACES, namespace("doomed"))
        yield* kube.create(NAMESPACES, namespace("doomed-not"))
        yield* kube.create(CONFIGMAPS, configMap("a", "doomed"))
        yield* kube.create(CONFIGMAPS, configMap("b", "doomed-not"))
        yield* kube.delete(NAMESPACES, "doomed")
        assert.deepStrictEqual(itemNames(yield* listAll(kube, CONFIGMAPS)), ["doomed-not/b"])
        assert.strictEqual((yield* Effect.flip(kube.create(CONFIGMAPS, configMap("c", "doomed"))))._tag, "KubeNotFound")
      })
    ))
})

describe("Memory KubeClient: lists at a revision", () => {
  it.effect("sorts by namespace, then name, across namespaces", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        yield* control.seed([configMap("z", "a"), configMap("b", "a-b"), configMap("a", "a"), configMap("a", "b")])
        const pages = yield* listAll(kube, CONFIGMAPS, { limit: 3 })
        assert.deepStrictEqual(itemNames(pages), ["a/a", "a/z", "a-b/b", "b/a"])
        assert.deepStrictEqual(pages.map((page) => page.items.length), [3, 1])
        assert.deepStrictEqual(itemNames(yield* listAll(kube, CONFIGMAPS, { namespace: "a", limit: 1 })), [
          "a/a",
          "a/z"
        ])
      })
    ))

  it.effect("answers each kind of resourceVersion request like the apiserver", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const a = yield* kube.create(CONFIGMAPS, configMap("a"))
        yield* kube.create(CONFIGMAPS, configMap("b"))
        const now = yield* control.currentRevision
        const at = (options: ListOptions) => listAll(kube, CONFIGMAPS, { namespace: "default", ...options })
        const failure = (options: ListOptions) => Effect.flip(at(options))
        assert.strictEqual((yield* at({}))[0]?.resourceVersion, now)
        assert.strictEqual((yield* at({ resourceVersion: "0" }))[0]?.resourceVersion, now)
        assert.strictEqual(
          (yield* at({ resourceVersion: "1", resourceVersionMatch: "NotOlderThan" }))[0]?.resourceVersion,
          now
        )
        const legacyExact = yield* at({ resourceVersion: a.metadata.resourceVersion ?? "", limit: 10 })
        assert.deepStrictEqual(itemNames(legacyExact), ["default/a"])
        assert.strictEqual(legacyExact[0]?.resourceVersion, a.metadata.resourceVersion)
        const tooNew = yield* failure({ resourceVersion: String(Number(now) + 1), resourceVersionMatch: "Exact" })
        assert.strictEqual(tooNew._tag, "KubeUnavailable")
        assert.strictEqual(tooNew instanceof KubeUnavailable ? tooNew.status : undefined, 504)
        assert.strictEqual((yield* failure({ resourceVersion: String(Number(now) + 1) }))._tag, "KubeUnavailable")
        assert.strictEqual(
          (yield* failure({ resourceVersion: "0", resourceVersionMatch: "Exact" }))._tag,
          "KubeInvalid"
        )
        assert.strictEqual(
          (yield* failure({ resourceVersion: "abc", resourceVersionMatch: "Exact" }))._tag,
          "KubeInvalid"
        )
        assert.strictEqual((yield* failure({ resourceVersionMatch: "Exact" }))._tag, "KubeInvalid")
        assert.strictEqual((yield* failure({ labelSelector: "a in (" }))._tag, "KubeInvalid")
        assert.strictEqual((yield* failure({ fieldSelector: "spec.nodeName=x" }))._tag, "KubeInvalid")
      })
    ))

  it.effect("keeps deleted and overwritten versions until compaction, then answers 410", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const a = yield* kube.create(CONFIGMAPS, configMap("a", "default", {}, { v: "1" }))
        const r1 = a.metadata.resourceVersion ?? ""
        yield* kube.update(CONFIGMAPS, { ...a, data: { v: "2" } })
        const r2 = yield* control.currentRevision
        yield* kube.delete(CONFIGMAPS, "a", "default")
        const exact = (revision: string) =>
          listAll(kube, CONFIGMAPS, { namespace: "default", resourceVersion: revision, resourceVersionMatch: "Exact" })
            .pipe(
              Effect.map((pages) => pages.flatMap((page) => page.items.map((item) => item["data"])))
            )
        assert.deepStrictEqual(yield* exact(r1), [{ v: "1" }])
        assert.deepStrictEqual(yield* exact(r2), [{ v: "2" }])
        yield* control.compact(r2)
        // The compacted revision itself stays readable, like etcd's.
        assert.deepStrictEqual(yield* exact(r2), [{ v: "2" }])
        assert.strictEqual((yield* Effect.flip(exact(r1)))._tag, "KubeGone")
        yield* control.compact()
        assert.strictEqual((yield* Effect.flip(exact(r2)))._tag, "KubeGone")
        assert.deepStrictEqual(yield* exact(yield* control.currentRevision), [])
        assert.strictEqual((yield* Effect.flip(control.compact("999999")))._tag, "KubeInvalid")
      })
    ))

  it.effect("a continue token whose revision got compacted is Gone", () =>
    Effect.scoped(withKube((kube, control) =>
      Effect.gen(function*() {
        yield* control.seed([configMap("a"), configMap("b"), configMap("c")])
        const pull = yield* Stream.toPull(kube.listPages(CONFIGMAPS, { namespace: "default", limit: 1 }))
        const first = yield* pull
        assert.strictEqual(Chunk.unsafeHead(first).items[0]?.metadata.name, "a")
        yield* kube.create(CONFIGMAPS, configMap("d"))
        yield* control.compact()
        const failed = yield* Effect.flip(pull)
        assert.deepStrictEqual(Option.map(failed, (e) => e._tag), Option.some("KubeGone"))
      })
    )))

  it.effect("filters by label and by a kind's own selectable fields", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const pod = (name: string, node: string, labels: Record<string, string>): KubeObject => ({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, namespace: "default", labels },
          spec: { nodeName: node }
        })
        yield* control.seed([
          pod("p1", "n1", { app: "web" }),
          pod("p2", "n2", { app: "web" }),
          pod("p3", "n1", { app: "db" })
        ])
        const names = (options: ListOptions) => listAll(kube, PODS, options).pipe(Effect.map(itemNames))
        assert.deepStrictEqual(yield* names({ fieldSelector: "spec.nodeName=n1" }), ["default/p1", "default/p3"])
        assert.deepStrictEqual(yield* names({ fieldSelector: "spec.nodeName=n1", labelSelector: "app=web" }), [
          "default/p1"
        ])
        assert.deepStrictEqual(yield* names({ fieldSelector: "metadata.namespace!=default" }), [])
        // A selective list still pages by matches, with no trailing empty page.
        const pages = yield* listAll(kube, PODS, { labelSelector: "app=web", limit: 1 })
        assert.deepStrictEqual(pages.map((page) => page.items.length), [1, 1])
      })
    ))

  it.effect("fails the next call of a verb once when told to, mid-pagination too", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        yield* control.seed([configMap("a"), configMap("b")])
        const boom = new KubeUnavailable({ resource: "configmaps", message: "injected", status: 503 })
        yield* control.failNext("get", boom)
        const injected = yield* Effect.flip(kube.get(CONFIGMAPS, "a", "default"))
        assert.deepStrictEqual([injected._tag, injected.message], ["KubeUnavailable", "injected"])
        assert.strictEqual((yield* kube.get(CONFIGMAPS, "a", "default")).metadata.name, "a")
        const seen: Array<string> = []
        const failed = yield* kube.listPages(CONFIGMAPS, { namespace: "default", limit: 1 }).pipe(
          Stream.tap((page) => {
            seen.push(...page.items.map((item) => item.metadata.name ?? ""))
            return seen.length === 1 ? control.failNext("list", boom) : Effect.void
          }),
          Stream.runDrain,
          Effect.flip
        )
        assert.deepStrictEqual([failed._tag, failed.message], ["KubeUnavailable", "injected"])
        assert.deepStrictEqual(seen, ["a"])
        yield* control.failDiscovery("metrics.k8s.io/v1beta1", "service unavailable")
        const discovery = yield* kube.discover
        assert.deepStrictEqual(discovery.failedGroups, [{
          groupVersion: "metrics.k8s.io/v1beta1",
          message: "service unavailable"
        }])
      })
    ))

  // How fast is for bench/: here, that 10k objects keep every revision and page boundary right.
  it.effect("creates 10k objects at increasing revisions and lists them in full pages at one revision", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const names = Array.from({ length: 10_000 }, (_, i) => `cm-${String(i).padStart(5, "0")}`)
        const revisions: Array<number> = []
        for (const name of names) {
          revisions.push(Number((yield* kube.create(CONFIGMAPS, configMap(name))).metadata.resourceVersion))
        }
        assert.isTrue(revisions.every((rv, i) => i === 0 || rv > revisions[i - 1]!), "one new revision per create")
        const pages = yield* listAll(kube, CONFIGMAPS, { namespace: "default", limit: 500 })
        assert.deepStrictEqual(pages.map((page) => page.items.length), Array.from({ length: 20 }, () => 500))
        assert.deepStrictEqual(
          new Set(pages.map((page) => page.resourceVersion)),
          new Set([yield* control.currentRevision])
        )
        // In order, none lost or doubled at a page boundary.
        assert.deepStrictEqual(pages.flatMap((page) => page.items.map((item) => item.metadata.name)), names)
      })
    ))
})

describe("Memory KubeClient: watches", () => {
  it.effect("replays history after a revision, then goes live without losing or doubling anything", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const from = yield* control.currentRevision
        const a = yield* kube.create(CONFIGMAPS, configMap("a"))
        const fiber = yield* Effect.fork(
          collect(kube.watch(CONFIGMAPS, { namespace: "default", resourceVersion: from }), 4)
        )
        yield* Effect.repeat(control.watchers, { until: (n) => n === 1 })
        yield* kube.update(CONFIGMAPS, { ...a, data: { v: "2" } })
        yield* kube.create(CONFIGMAPS, configMap("other", "kube-system"))
        yield* kube.create(CONFIGMAPS, configMap("b"))
        yield* kube.delete(CONFIGMAPS, "a", "default")
        const events = yield* Fiber.join(fiber)
        assert.deepStrictEqual(summary(events), [
          "ADDED a {}",
          "MODIFIED a {\"v\":\"2\"}",
          "ADDED b {}",
          "DELETED a {\"v\":\"2\"}"
        ])
        assert.strictEqual(events[3]?.object.metadata.resourceVersion, yield* control.currentRevision)
        assert.strictEqual(yield* control.watchers, 0)
      })
    ))

  it.effect("without a revision, starts with synthetic ADDED events for what exists", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        yield* control.seed([configMap("b"), configMap("a")])
        const fiber = yield* Effect.fork(
          collect(kube.watch(CONFIGMAPS, { namespace: "default", resourceVersion: "0" }), 3)
        )
        yield* Effect.repeat(control.watchers, { until: (n) => n === 1 })
        yield* kube.create(CONFIGMAPS, configMap("c"))
        assert.deepStrictEqual(summary(yield* Fiber.join(fiber)), ["ADDED a {}", "ADDED b {}", "ADDED c {}"])
      })
    ))

  it.effect("a selector watch turns objects that start or stop matching into ADDED and DELETED", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const from = yield* control.currentRevision
        const a = yield* kube.create(CONFIGMAPS, configMap("a", "default", { app: "web" }))
        const moved = yield* kube.update(CONFIGMAPS, { ...a, metadata: { ...a.metadata, labels: { app: "db" } } })
        yield* kube.update(CONFIGMAPS, { ...moved, metadata: { ...moved.metadata, labels: { app: "web" } } })
        const events = yield* collect(kube.watch(CONFIGMAPS, { labelSelector: "app=web", resourceVersion: from }), 3)
        assert.deepStrictEqual(events.map((event) => event.type), ["ADDED", "DELETED", "ADDED"])
        // The DELETED event carries the old content at the revision that made it stop matching.
        assert.deepStrictEqual(events[1]?.object.metadata.labels, { app: "web" })
        assert.strictEqual(events[1]?.object.metadata.resourceVersion, moved.metadata.resourceVersion)
      })
    ))

  it.effect("a watch from a compacted revision is Gone; one from the future is refused", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const from = yield* control.currentRevision
        yield* kube.create(CONFIGMAPS, configMap("a"))
        yield* kube.create(CONFIGMAPS, configMap("b"))
        yield* control.compact()
        const gone = yield* Effect.flip(Stream.runDrain(kube.watch(CONFIGMAPS, { resourceVersion: from })))
        assert.strictEqual(gone._tag, "KubeGone")
        const future = yield* Effect.flip(Stream.runDrain(kube.watch(CONFIGMAPS, { resourceVersion: "99999" })))
        assert.strictEqual(future._tag, "KubeUnavailable")
      })
    ))

  it.effect("a namespace deletion shows up as DELETED events for its objects", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        yield* control.seed([configMap("a", "gone"), configMap("b", "gone")])
        const from = yield* control.currentRevision
        yield* kube.delete(NAMESPACES, "gone")
        const events = yield* collect(kube.watch(CONFIGMAPS, { resourceVersion: from }), 2)
        assert.deepStrictEqual(events.map((event) => `${event.type} ${event.object.metadata.name}`), [
          "DELETED a",
          "DELETED b"
        ])
      })
    ))
})

describe("Memory KubeClient: CRDs and discovery", () => {
  it.effect("discovery serves the built-ins in their preferred versions", () =>
    withKube((kube) =>
      Effect.gen(function*() {
        const discovery = yield* kube.discover
        const deployments = discovery.resources.find((r) => r.group === "apps" && r.resource === "deployments")
        assert.deepStrictEqual(deployments, {
          group: "apps",
          version: "v1",
          resource: "deployments",
          kind: "Deployment",
          namespaced: true,
          verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
          shortNames: ["deploy"],
          singularName: "deployment",
          statusSubresource: true
        })
        assert.strictEqual(discovery.resources.filter((r) => r.resource === "events").length, 2)
        assert.deepStrictEqual(discovery.failedGroups, [])
      })
    ))

  it.effect("a CRD is established right after create and adds its resource in the preferred version", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const before = Number(yield* control.currentRevision)
        const created = yield* kube.create(CRDS, widgetCrd("example.com", ["v1alpha1", "v1beta2", "v1beta1"]))
        assert.isUndefined(created["status"], "the create response precedes the controllers")
        assert.strictEqual(yield* control.currentRevision, String(before + 2))
        const crd = yield* kube.get(CRDS, "widgets.example.com")
        const status = crd["status"] as {
          conditions: Array<{ type: string; status: string }>
          acceptedNames: unknown
          storedVersions: unknown
        }
        assert.deepStrictEqual(status.conditions.map((c) => `${c.type}=${c.status}`), [
          "NamesAccepted=True",
          "Established=True"
        ])
        assert.deepStrictEqual(status.acceptedNames, {
          plural: "widgets",
          singular: "widget",
          kind: "Widget",
          listKind: "WidgetList",
          shortNames: ["wdg"]
        })
        assert.deepStrictEqual(status.storedVersions, ["v1alpha1"])
        const widgets = (yield* kube.discover).resources.find((r) => r.group === "example.com")
        assert.strictEqual(widgets?.version, "v1beta2")
        assert.strictEqual(widgets?.statusSubresource, true)
        const widget = yield* kube.create({ group: "example.com", version: "v1alpha1", resource: "widgets" }, {
          apiVersion: "example.com/v1alpha1",
          kind: "Widget",
          metadata: { name: "w", namespace: "default" },
          spec: { size: 1 }
        })
        assert.strictEqual(widget.apiVersion, "example.com/v1alpha1")
        const pages = yield* listAll(kube, { group: "example.com", version: "v1beta2", resource: "widgets" })
        assert.deepStrictEqual(pages.flatMap((page) => page.items.map((item) => item.apiVersion)), [
          "example.com/v1beta2"
        ])
      })
    ))

  it.effect("deleting a CRD removes its resource and objects; watches see them go", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        yield* kube.create(CRDS, widgetCrd("example.com", ["v1"], "Cluster"))
        const gvr = { group: "example.com", version: "v1", resource: "widgets" }
        const from = yield* control.currentRevision
        yield* kube.create(gvr, {
          apiVersion: "example.com/v1",
          kind: "Widget",
          metadata: { name: "w", namespace: "ignored" }
        })
        const fiber = yield* Effect.fork(collect(kube.watch(gvr, { resourceVersion: from }), 2))
        yield* Effect.repeat(control.watchers, { until: (n) => n === 1 })
        yield* kube.delete(CRDS, "widgets.example.com")
        assert.deepStrictEqual((yield* Fiber.join(fiber)).map((event) => event.type), ["ADDED", "DELETED"])
        assert.strictEqual((yield* Effect.flip(kube.get(gvr, "w")))._tag, "KubeNotFound")
        assert.isUndefined((yield* kube.discover).resources.find((r) => r.group === "example.com"))
        // Recreating starts empty.
        yield* kube.create(CRDS, widgetCrd("example.com", ["v1"], "Cluster"))
        assert.deepStrictEqual(yield* listAll(kube, gvr).pipe(Effect.map(itemNames)), [])
      })
    ))

  it.effect("rejects CRDs the real server would reject", () =>
    withKube((kube) =>
      Effect.gen(function*() {
        const good = widgetCrd("example.com", ["v1"])
        const bad: ReadonlyArray<KubeObject> = [
          { ...good, metadata: { name: "wrong.example.com" } },
          widgetCrd("apps", ["v1"]),
          widgetCrd("nodots", ["v1"]),
          { ...good, spec: { ...(good["spec"] as object), scope: "Galaxy" } },
          { ...good, spec: { ...(good["spec"] as object), versions: [] } }
        ]
        for (const crd of bad) {
          const result = yield* Effect.either(kube.create(CRDS, crd))
          assert.isTrue(Either.isLeft(result) && result.left._tag === "KubeInvalid", JSON.stringify(crd))
        }
        assert.isUndefined((yield* kube.discover).resources.find((r) => r.kind === "Widget"))
      })
    ))

  it.effect("seed resolves resources from apiVersion and kind, and makes missing namespaces", () =>
    withKube((kube, control) =>
      Effect.gen(function*() {
        const seeded = yield* control.seed([
          configMap("a", "fresh"),
          { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "fresh" }, spec: {} }
        ])
        assert.strictEqual(seeded.length, 2)
        assert.strictEqual((yield* kube.get(NAMESPACES, "fresh")).metadata.name, "fresh")
        assert.strictEqual((yield* kube.get(DEPLOYMENTS, "d", "fresh")).kind, "Deployment")
        const unknown = yield* Effect.flip(
          control.seed([{ apiVersion: "nope/v1", kind: "Thing", metadata: { name: "x" } }])
        )
        assert.strictEqual(unknown._tag, "KubeNotFound")
      })
    ))
})

describe("Memory layer", () => {
  it.effect("provides the client and its control handle over the same state", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const control = yield* Memory.MemoryKube
      const created = yield* kube.create(CONFIGMAPS, configMap("a"))
      assert.strictEqual(yield* control.currentRevision, created.metadata.resourceVersion)
    }).pipe(Effect.provide(Memory.layer)))
})
