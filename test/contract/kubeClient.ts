// Behaviours every KubeClient adapter must share, run against the Memory layer in unit tests
// and against a real kube-apiserver in integration, so the fake cannot drift from the server.
// Against a real cluster: every test works in its own namespace (and CRD group), selects its
// own objects by label (controllers add objects such as kube-root-ca.crt), never assumes exact
// revisions, and polls with a deadline where the server acts asynchronously.
import { assert, describe, it } from "@effect/vitest"
import type { Duration, Layer, Scope } from "effect"
import { Chunk, Data, Effect, Schedule, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"

export interface KubeClientContractSetup<R, E, CE> {
  readonly layer: Layer.Layer<KubeClient | R, E>
  /** Compacts the store's history up to now, so older revisions answer 410 Gone. */
  readonly compact: Effect.Effect<void, CE, KubeClient | R>
  /** A fresh namespace name (a DNS label of at most ~40 characters) for one test. */
  readonly uniqueNamespace: () => string
}

class NotYet extends Data.TaggedError("NotYet")<{ readonly what: string }> {}

const NAMESPACES: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
const CONFIGMAPS: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }
const CRDS: GroupVersionResource = {
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions"
}

/** Retries until the effect succeeds or the deadline passes (then its last failure). */
const eventually = <A, E, R>(effect: Effect.Effect<A, E, R>, within: Duration.DurationInput = "60 seconds") =>
  Effect.retry(effect, Schedule.spaced("200 millis").pipe(Schedule.upTo(within)))

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

const names = (objects: ReadonlyArray<KubeObject>) => objects.map((object) => object.metadata.name)

const dataOf = (object: KubeObject): unknown => object["data"]

interface Env {
  readonly kube: KubeClient.Shape
  readonly ns: string
  /** `key=value` on every object the test creates, and its selector. */
  readonly label: Readonly<Record<string, string>>
  readonly selector: string
  readonly configMap: (name: string, data?: Record<string, string>, labels?: Record<string, string>) => KubeObject
}

const PRESERVE = { type: "object", "x-kubernetes-preserve-unknown-fields": true }

const widgetCrd = (group: string): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList", shortNames: ["wdg"] },
    versions: ["v1beta1", "v1"].map((name) => ({
      name,
      served: true,
      storage: name === "v1",
      schema: { openAPIV3Schema: { type: "object", properties: { spec: PRESERVE, status: PRESERVE } } },
      subresources: { status: {} }
    }))
  }
})

export const kubeClientContract = <R, E, CE>(name: string, setup: KubeClientContractSetup<R, E, CE>): void => {
  describe(`KubeClient contract: ${name}`, () => {
    const inNamespace = <A, E2>(body: (env: Env) => Effect.Effect<A, E2, KubeClient | R | Scope.Scope>) =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const ns = setup.uniqueNamespace()
        yield* kube.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
        yield* Effect.addFinalizer(() => kube.delete(NAMESPACES, ns).pipe(Effect.ignore))
        const label = { "ark.test/contract": ns }
        return yield* body({
          kube,
          ns,
          label,
          selector: `ark.test/contract=${ns}`,
          configMap: (cmName, data = {}, labels = {}) => ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: cmName, namespace: ns, labels: { ...label, ...labels } },
            data
          })
        })
      }).pipe(Effect.scoped, Effect.provide(setup.layer))

    /** Installs the Widget CRD in a group of its own and waits until the server serves it. */
    const installWidgets = (env: Env) =>
      Effect.gen(function*() {
        const group = `${env.ns}.ark.test`
        yield* env.kube.create(CRDS, widgetCrd(group))
        yield* Effect.addFinalizer(() => env.kube.delete(CRDS, `widgets.${group}`).pipe(Effect.ignore))
        yield* eventually(
          env.kube.get(CRDS, `widgets.${group}`).pipe(
            Effect.filterOrFail(
              (crd) => JSON.stringify(crd["status"] ?? {}).includes(`"type":"Established","status":"True"`),
              () => new NotYet({ what: "CRD Established" })
            )
          )
        )
        const discovered = yield* eventually(
          env.kube.discover.pipe(
            Effect.map((discovery) => discovery.resources.find((r) => r.group === group && r.resource === "widgets")),
            Effect.filterOrFail((r) => r !== undefined, () => new NotYet({ what: "widgets in discovery" }))
          )
        )
        const gvr: GroupVersionResource = { group, version: "v1", resource: "widgets" }
        const widget = (widgetName: string, spec: unknown, status?: unknown): KubeObject => ({
          apiVersion: `${group}/v1`,
          kind: "Widget",
          metadata: { name: widgetName, namespace: env.ns, labels: env.label },
          spec,
          ...(status === undefined ? {} : { status })
        })
        // The custom resource handler may lag discovery by a moment.
        const createWidget = (object: KubeObject) =>
          Effect.retry(env.kube.create(gvr, object), {
            while: (e) => e._tag === "KubeNotFound",
            schedule: Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds"))
          })
        return { group, gvr, discovered, widget, createWidget }
      })

    it.live("create then get returns the object with server-set metadata", () =>
      inNamespace(({ kube, ns, configMap }) =>
        Effect.gen(function*() {
          const created = yield* kube.create(CONFIGMAPS, configMap("first", { a: "1" }))
          assert.strictEqual(created.metadata.name, "first")
          assert.strictEqual(created.metadata.namespace, ns)
          assert.isTrue((created.metadata.uid ?? "").length > 0)
          assert.match(created.metadata.resourceVersion ?? "", /^[0-9]+$/)
          assert.match(created.metadata.creationTimestamp ?? "", RFC3339)
          const got = yield* kube.get(CONFIGMAPS, "first", ns)
          assert.deepStrictEqual(dataOf(got), { a: "1" })
          assert.strictEqual(got.metadata.uid, created.metadata.uid)
          assert.strictEqual(got.metadata.resourceVersion, created.metadata.resourceVersion)
          assert.strictEqual(got.kind, "ConfigMap")
          assert.strictEqual(got.apiVersion, "v1")
        })
      ))

    it.live("an existing name is AlreadyExists, a missing one NotFound", () =>
      inNamespace(({ kube, ns, configMap }) =>
        Effect.gen(function*() {
          yield* kube.create(CONFIGMAPS, configMap("taken"))
          const again = yield* Effect.flip(kube.create(CONFIGMAPS, configMap("taken")))
          assert.strictEqual(again._tag, "KubeAlreadyExists")
          assert.strictEqual((yield* Effect.flip(kube.get(CONFIGMAPS, "missing", ns)))._tag, "KubeNotFound")
          assert.strictEqual((yield* Effect.flip(kube.delete(CONFIGMAPS, "missing", ns)))._tag, "KubeNotFound")
          assert.strictEqual((yield* Effect.flip(kube.update(CONFIGMAPS, configMap("missing"))))._tag, "KubeNotFound")
          const patched = yield* Effect.flip(
            kube.patch(CONFIGMAPS, "missing", { type: "merge", body: { data: { a: "1" } } }, ns)
          )
          assert.strictEqual(patched._tag, "KubeNotFound")
          const unknown = yield* Effect.flip(
            kube.get({ group: "ark.test", version: "v1", resource: "nothings" }, "x", ns)
          )
          assert.strictEqual(unknown._tag, "KubeNotFound")
        })
      ))

    it.live("creating into a missing namespace is NotFound; generateName picks a fresh name", () =>
      inNamespace(({ kube, ns, configMap }) =>
        Effect.gen(function*() {
          const orphan = configMap("orphan")
          const missing = yield* Effect.flip(
            kube.create(CONFIGMAPS, { ...orphan, metadata: { ...orphan.metadata, namespace: `${ns}-missing` } })
          )
          assert.strictEqual(missing._tag, "KubeNotFound")
          const template = configMap("")
          const { name: _name, ...meta } = template.metadata
          const generated = yield* kube.create(CONFIGMAPS, { ...template, metadata: { ...meta, generateName: "gen-" } })
          const generatedName = generated.metadata.name ?? ""
          assert.isTrue(generatedName.startsWith("gen-") && generatedName.length > 4, generatedName)
          assert.strictEqual((yield* kube.get(CONFIGMAPS, generatedName, ns)).metadata.uid, generated.metadata.uid)
        })
      ))

    it.live("lists in pages that all reflect the first page's revision", () =>
      inNamespace(({ kube, ns, configMap, selector }) =>
        Effect.gen(function*() {
          for (let i = 0; i < 5; i++) yield* kube.create(CONFIGMAPS, configMap(`cm-${i}`))
          const pages = yield* kube.listPages(CONFIGMAPS, { namespace: ns, labelSelector: selector, limit: 2 }).pipe(
            Stream.zipWithIndex,
            // A write between pages must not show up in the later pages.
            Stream.tap(([, index]) =>
              index === 0 ? kube.create(CONFIGMAPS, configMap("cm-5")).pipe(Effect.asVoid) : Effect.void
            ),
            Stream.map(([page]) => page),
            Stream.runCollect,
            Effect.map((chunk) => Chunk.toReadonlyArray(chunk))
          )
          assert.deepStrictEqual(pages.map((page) => page.items.length), [2, 2, 1])
          assert.strictEqual(new Set(pages.map((page) => page.resourceVersion)).size, 1)
          assert.deepStrictEqual(names(pages.flatMap((page) => page.items)), ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"])
          const fresh = yield* Stream.runCollect(kube.listPages(CONFIGMAPS, { namespace: ns, labelSelector: selector }))
          assert.deepStrictEqual(names(Chunk.toReadonlyArray(fresh).flatMap((page) => page.items)), [
            "cm-0",
            "cm-1",
            "cm-2",
            "cm-3",
            "cm-4",
            "cm-5"
          ])
        })
      ))

    it.live("a list at an exact older resourceVersion sees the state of then", () =>
      inNamespace(({ kube, ns, configMap, selector }) =>
        Effect.gen(function*() {
          const a = yield* kube.create(CONFIGMAPS, configMap("a", { v: "1" }))
          const b = yield* kube.create(CONFIGMAPS, configMap("b", { v: "1" }))
          const then = b.metadata.resourceVersion ?? ""
          yield* kube.update(CONFIGMAPS, { ...a, data: { v: "2" } })
          yield* kube.delete(CONFIGMAPS, "b", ns)
          yield* kube.create(CONFIGMAPS, configMap("c", { v: "1" }))
          const list = (options: { resourceVersion?: string; resourceVersionMatch?: "Exact" }) =>
            Stream.runCollect(kube.listPages(CONFIGMAPS, { namespace: ns, labelSelector: selector, ...options })).pipe(
              Effect.map((chunk) => Chunk.toReadonlyArray(chunk))
            )
          const old = yield* list({ resourceVersion: then, resourceVersionMatch: "Exact" })
          assert.strictEqual(old[0]?.resourceVersion, then)
          const oldItems = old.flatMap((page) => page.items)
          assert.deepStrictEqual(names(oldItems), ["a", "b"])
          assert.deepStrictEqual(oldItems.map(dataOf), [{ v: "1" }, { v: "1" }])
          const now = yield* list({})
          const nowItems = now.flatMap((page) => page.items)
          assert.deepStrictEqual(names(nowItems), ["a", "c"])
          assert.deepStrictEqual(dataOf(nowItems[0]!), { v: "2" })
          assert.isTrue(BigInt(now[0]?.resourceVersion ?? "0") > BigInt(then))
        })
      ))

    it.live("a list at a compacted resourceVersion is Gone", () =>
      inNamespace(({ kube, ns, configMap, selector }) =>
        Effect.gen(function*() {
          const a = yield* kube.create(CONFIGMAPS, configMap("a", { v: "1" }))
          const then = a.metadata.resourceVersion ?? ""
          yield* kube.update(CONFIGMAPS, { ...a, data: { v: "2" } })
          yield* kube.create(CONFIGMAPS, configMap("b"))
          yield* setup.compact
          const gone = yield* eventually(
            Stream.runCollect(
              kube.listPages(CONFIGMAPS, {
                namespace: ns,
                labelSelector: selector,
                resourceVersion: then,
                resourceVersionMatch: "Exact"
              })
            ).pipe(
              Effect.flip,
              Effect.filterOrFail((e) => e._tag === "KubeGone", () => new NotYet({ what: "410 Gone" }))
            )
          )
          assert.strictEqual(gone._tag, "KubeGone")
          // The present stays readable.
          const now = yield* Stream.runCollect(kube.listPages(CONFIGMAPS, { namespace: ns, labelSelector: selector }))
          assert.deepStrictEqual(names(Chunk.toReadonlyArray(now).flatMap((page) => page.items)), ["a", "b"])
        })
      ))

    it.live("an update with a stale resourceVersion is a Conflict; without one it applies", () =>
      inNamespace(({ kube, ns, configMap }) =>
        Effect.gen(function*() {
          const created = yield* kube.create(CONFIGMAPS, configMap("cm", { v: "1" }))
          const updated = yield* kube.update(CONFIGMAPS, { ...created, data: { v: "2" } })
          assert.notStrictEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion)
          const stale = yield* Effect.flip(kube.update(CONFIGMAPS, { ...created, data: { v: "3" } }))
          assert.strictEqual(stale._tag, "KubeConflict")
          assert.deepStrictEqual(dataOf(yield* kube.get(CONFIGMAPS, "cm", ns)), { v: "2" })
          const { resourceVersion: _rv, ...meta } = created.metadata
          const unconditional = yield* kube.update(CONFIGMAPS, { ...created, metadata: meta, data: { v: "4" } })
          assert.deepStrictEqual(dataOf(unconditional), { v: "4" })
        })
      ))

    it.live("merge and JSON patches apply; a failed JSON patch test changes nothing", () =>
      inNamespace(({ kube, ns, configMap }) =>
        Effect.gen(function*() {
          yield* kube.create(CONFIGMAPS, configMap("cm", { a: "1", b: "2" }))
          const merged = yield* kube.patch(CONFIGMAPS, "cm", {
            type: "merge",
            body: { data: { b: null, c: "3" }, metadata: { labels: { extra: "yes" } } }
          }, ns)
          assert.deepStrictEqual(dataOf(merged), { a: "1", c: "3" })
          assert.strictEqual(merged.metadata.labels?.["extra"], "yes")
          const patched = yield* kube.patch(CONFIGMAPS, "cm", {
            type: "json",
            ops: [
              { op: "test", path: "/data/a", value: "1" },
              { op: "replace", path: "/data/a", value: "10" },
              { op: "add", path: "/data/d", value: "4" },
              { op: "remove", path: "/data/c" }
            ]
          }, ns)
          assert.deepStrictEqual(dataOf(patched), { a: "10", d: "4" })
          const failed = yield* Effect.flip(kube.patch(CONFIGMAPS, "cm", {
            type: "json",
            ops: [{ op: "test", path: "/data/a", value: "nope" }, { op: "replace", path: "/data/a", value: "x" }]
          }, ns))
          assert.strictEqual(failed._tag, "KubeInvalid")
          const after = yield* kube.get(CONFIGMAPS, "cm", ns)
          assert.strictEqual(after.metadata.resourceVersion, patched.metadata.resourceVersion)
          const stale = yield* Effect.flip(kube.patch(CONFIGMAPS, "cm", {
            type: "merge",
            body: { metadata: { resourceVersion: merged.metadata.resourceVersion }, data: { a: "stale" } }
          }, ns))
          assert.strictEqual(stale._tag, "KubeConflict")
        })
      ))

    it.live("label and field selectors filter lists", () =>
      inNamespace(({ kube, ns, configMap, selector }) =>
        Effect.gen(function*() {
          yield* kube.create(CONFIGMAPS, configMap("a", {}, { tier: "web" }))
          yield* kube.create(CONFIGMAPS, configMap("b", {}, { tier: "db" }))
          yield* kube.create(CONFIGMAPS, configMap("c"))
          const list = (labelSelector: string, fieldSelector?: string) =>
            Stream.runCollect(kube.listPages(CONFIGMAPS, {
              namespace: ns,
              labelSelector: `${selector},${labelSelector}`,
              ...(fieldSelector === undefined ? {} : { fieldSelector })
            })).pipe(Effect.map((chunk) => names(Chunk.toReadonlyArray(chunk).flatMap((page) => page.items))))
          assert.deepStrictEqual(yield* list("tier in (web,db)"), ["a", "b"])
          assert.deepStrictEqual(yield* list("tier!=web"), ["b", "c"])
          assert.deepStrictEqual(yield* list("!tier"), ["c"])
          assert.deepStrictEqual(yield* list("tier", "metadata.name=b"), ["b"])
          assert.deepStrictEqual(yield* list("tier", `metadata.namespace=${ns},metadata.name!=b`), ["a"])
        })
      ))

    it.live("a watch from a resourceVersion delivers ADDED, MODIFIED, DELETED in order", () =>
      inNamespace(({ kube, ns, configMap, selector }) =>
        Effect.gen(function*() {
          const start = yield* Stream.runCollect(kube.listPages(CONFIGMAPS, { namespace: ns, labelSelector: selector }))
          const from = Chunk.toReadonlyArray(start)[0]?.resourceVersion ?? ""
          const created = yield* kube.create(CONFIGMAPS, configMap("w", { v: "1" }))
          const events = yield* kube.watch(CONFIGMAPS, {
            namespace: ns,
            labelSelector: selector,
            resourceVersion: from
          }).pipe(
            Stream.filter((event) => event.type !== "BOOKMARK"),
            Stream.take(4),
            Stream.runCollect,
            Effect.map((chunk) => Chunk.toReadonlyArray(chunk)),
            Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new NotYet({ what: "four watch events" }) }),
            Effect.fork
          )
          // Some of these may be replayed and some live: the watch must lose and double nothing.
          const updated = yield* kube.update(CONFIGMAPS, { ...created, data: { v: "2" } })
          yield* kube.create(CONFIGMAPS, configMap("other"))
          yield* kube.delete(CONFIGMAPS, "w", ns)
          const received = yield* events
          assert.deepStrictEqual(received.map((event) => [event.type, event.object.metadata.name]), [
            ["ADDED", "w"],
            ["MODIFIED", "w"],
            ["ADDED", "other"],
            ["DELETED", "w"]
          ])
          const revisions = received.map((event) => BigInt(event.object.metadata.resourceVersion ?? "0"))
          assert.isTrue(revisions.every((rv, i) => i === 0 || rv > revisions[i - 1]!), String(revisions))
          assert.strictEqual(received[1]?.object.metadata.resourceVersion, updated.metadata.resourceVersion)
          // DELETED carries the last state.
          assert.deepStrictEqual(dataOf(received[3]!.object), { v: "2" })
        })
      ))

    it.live("a watch without a resourceVersion starts with the current objects", () =>
      inNamespace(({ kube, ns, configMap, selector }) =>
        Effect.gen(function*() {
          yield* kube.create(CONFIGMAPS, configMap("a"))
          yield* kube.create(CONFIGMAPS, configMap("b"))
          const initial = yield* kube.watch(CONFIGMAPS, { namespace: ns, labelSelector: selector }).pipe(
            Stream.take(2),
            Stream.runCollect,
            Effect.map((chunk) => Chunk.toReadonlyArray(chunk)),
            Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new NotYet({ what: "two ADDED events" }) })
          )
          assert.deepStrictEqual(initial.map((event) => event.type), ["ADDED", "ADDED"])
          assert.deepStrictEqual(names(initial.map((event) => event.object)).sort(), ["a", "b"])
        })
      ))

    it.live("a CRD extends discovery, with its preferred version, and serves custom objects", () =>
      inNamespace((env) =>
        Effect.gen(function*() {
          const { createWidget, discovered, gvr, group, widget } = yield* installWidgets(env)
          assert.strictEqual(discovered.version, "v1")
          assert.strictEqual(discovered.kind, "Widget")
          assert.strictEqual(discovered.singularName, "widget")
          assert.isTrue(discovered.namespaced)
          assert.isTrue(discovered.statusSubresource)
          assert.deepStrictEqual(discovered.shortNames, ["wdg"])
          assert.includeMembers([...discovered.verbs], ["create", "get", "list", "watch", "update", "patch", "delete"])
          const crd = yield* env.kube.get(CRDS, `widgets.${group}`)
          assert.include(JSON.stringify(crd["status"]), `"type":"NamesAccepted","status":"True"`)
          yield* createWidget(widget("w1", { size: 1 }))
          const got = yield* env.kube.get(gvr, "w1", env.ns)
          assert.deepStrictEqual(got["spec"], { size: 1 })
          assert.strictEqual(got.apiVersion, `${group}/v1`)
          const older = yield* env.kube.get({ ...gvr, version: "v1beta1" }, "w1", env.ns)
          assert.strictEqual(older.apiVersion, `${group}/v1beta1`)
        })
      ))

    it.live("the status subresource: updates keep status, status updates change only status", () =>
      inNamespace((env) =>
        Effect.gen(function*() {
          const { createWidget, gvr, widget } = yield* installWidgets(env)
          const created = yield* createWidget(widget("w", { size: 1 }, { ready: true }))
          assert.isUndefined(created["status"])
          assert.strictEqual(created.metadata.generation, 1)
          const updated = yield* env.kube.update(gvr, { ...created, spec: { size: 2 }, status: { ready: true } })
          assert.isUndefined(updated["status"])
          assert.strictEqual(updated.metadata.generation, 2)
          const statused = yield* env.kube.updateStatus(gvr, {
            ...updated,
            spec: { size: 99 },
            status: { ready: true }
          })
          assert.deepStrictEqual(statused["status"], { ready: true })
          assert.deepStrictEqual(statused["spec"], { size: 2 })
          assert.strictEqual(statused.metadata.generation, 2)
          assert.notStrictEqual(statused.metadata.resourceVersion, updated.metadata.resourceVersion)
          const stale = yield* Effect.flip(env.kube.updateStatus(gvr, { ...updated, status: { ready: false } }))
          assert.strictEqual(stale._tag, "KubeConflict")
          const patched = yield* env.kube.patchStatus(
            gvr,
            "w",
            { type: "merge", body: { status: { phase: "Done" } } },
            env.ns
          )
          assert.deepStrictEqual(patched["status"], { ready: true, phase: "Done" })
          const mainPatch = yield* env.kube.patch(gvr, "w", {
            type: "merge",
            body: { spec: { size: 3 }, status: { phase: "Ignored" } }
          }, env.ns)
          assert.deepStrictEqual(mainPatch["status"], { ready: true, phase: "Done" })
          assert.deepStrictEqual(mainPatch["spec"], { size: 3 })
        })
      ))

    it.live("finalizers hold a deleted object until the last one is removed", () =>
      inNamespace(({ kube, ns, configMap }) =>
        Effect.gen(function*() {
          const template = configMap("held")
          yield* kube.create(CONFIGMAPS, {
            ...template,
            metadata: { ...template.metadata, finalizers: ["ark.test/hold"] }
          })
          yield* kube.delete(CONFIGMAPS, "held", ns)
          const terminating = yield* kube.get(CONFIGMAPS, "held", ns)
          assert.match(terminating.metadata.deletionTimestamp ?? "", RFC3339)
          assert.deepStrictEqual(terminating.metadata.finalizers, ["ark.test/hold"])
          yield* kube.update(CONFIGMAPS, { ...terminating, metadata: { ...terminating.metadata, finalizers: [] } })
          const gone = yield* eventually(
            kube.get(CONFIGMAPS, "held", ns).pipe(
              Effect.flip,
              Effect.filterOrFail((e) => e._tag === "KubeNotFound", () => new NotYet({ what: "finalized delete" }))
            )
          )
          assert.strictEqual(gone._tag, "KubeNotFound")
        })
      ))

    it.live("a dry-run write validates but stores nothing", () =>
      inNamespace(({ kube, ns, configMap }) =>
        Effect.gen(function*() {
          const dry = yield* kube.create(CONFIGMAPS, configMap("dry", { v: "1" }), { dryRun: true })
          assert.strictEqual(dry.metadata.name, "dry")
          assert.strictEqual((yield* Effect.flip(kube.get(CONFIGMAPS, "dry", ns)))._tag, "KubeNotFound")
          const real = yield* kube.create(CONFIGMAPS, configMap("dry", { v: "1" }))
          assert.strictEqual(
            (yield* Effect.flip(kube.create(CONFIGMAPS, configMap("dry"), { dryRun: true })))._tag,
            "KubeAlreadyExists"
          )
          const dryUpdate = yield* kube.update(CONFIGMAPS, { ...real, data: { v: "2" } }, { dryRun: true })
          assert.deepStrictEqual(dataOf(dryUpdate), { v: "2" })
          yield* kube.delete(CONFIGMAPS, "dry", ns, { dryRun: true })
          const after = yield* kube.get(CONFIGMAPS, "dry", ns)
          assert.deepStrictEqual(dataOf(after), { v: "1" })
          assert.strictEqual(after.metadata.resourceVersion, real.metadata.resourceVersion)
        })
      ))

    it.live("deleting a namespace deletes what is in it", () =>
      inNamespace(({ kube, ns, configMap }) =>
        Effect.gen(function*() {
          yield* kube.create(CONFIGMAPS, configMap("inside"))
          yield* kube.delete(NAMESPACES, ns)
          const gone = yield* eventually(
            kube.get(CONFIGMAPS, "inside", ns).pipe(
              Effect.flip,
              Effect.filterOrFail((e) => e._tag === "KubeNotFound", () => new NotYet({ what: "namespace cleanup" }))
            ),
            "120 seconds"
          )
          assert.strictEqual(gone._tag, "KubeNotFound")
        })
      ))
  })
}
