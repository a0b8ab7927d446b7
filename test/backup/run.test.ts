import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Ref, Stream, TestClock } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryObjectStore from "../../layers/objectstore/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient, KubeForbidden, KubeGone, KubeInvalid } from "../../services/KubeClient.ts"
import { ObjectStore, ObjectStoreError } from "../../services/ObjectStore.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { runBackup } from "../../src/backup/run.ts"
import type { BackupProgress } from "../../src/backup/write.ts"
import {
  clusterRole,
  configMap,
  deployment,
  deps,
  makeBackup,
  persistentVolume,
  persistentVolumeClaim,
  pod,
  readGzipText,
  readTarball,
  secret,
  storedKeys,
  testLayer,
  widget,
  widgetCrd
} from "./fixtures.ts"

const CONFIGMAPS = { group: "", version: "v1", resource: "configmaps" }

const seedApp = Effect.gen(function*() {
  const control = yield* MemoryKube.MemoryKube
  yield* control.seed([widgetCrd()])
  yield* control.seed([
    configMap("app", "settings", { app: "web" }, { mode: "prod" }),
    secret("app", "creds", { app: "web" }),
    deployment("app", "web", { app: "web" }),
    pod("app", "web-0", { app: "web" }),
    persistentVolume("pv-app"),
    persistentVolume("pv-other"),
    persistentVolumeClaim("app", "data", "pv-app"),
    widget("app", "w1"),
    configMap("other", "unrelated"),
    persistentVolumeClaim("other", "data", "pv-other"),
    clusterRole("reader"),
    {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "ev1", namespace: "app" },
      involvedObject: { kind: "Pod", name: "web-0", namespace: "app" },
      reason: "Started"
    }
  ])
})

describe("runBackup", () => {
  it.effect("backs up one namespace with its related PV and CRD, and commits every file", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00Z"))
      yield* seedApp
      const kube = yield* KubeClient
      const backup = yield* runBackup(makeBackup({ includedNamespaces: ["app"], ttl: "24h" }), deps)
      const status = backup.status!
      assert.strictEqual(status.phase, "Completed")
      assert.strictEqual(status.consistency, "Exact")
      assert.strictEqual(status.formatVersion, "1.0.0")
      assert.strictEqual(status.startTimestamp, "2024-05-01T12:00:00Z")
      assert.strictEqual(status.completionTimestamp, "2024-05-01T12:00:00Z")
      assert.strictEqual(status.expiration, "2024-05-02T12:00:00Z")
      assert.strictEqual(status.errors, 0)

      const { paths, objects } = yield* readTarball("b1")
      assert.strictEqual(paths[0], "metadata/version")
      assert.deepStrictEqual([...paths].sort(), [
        "metadata/version",
        "resources/configmaps/namespaces/app/settings.json",
        "resources/customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.example.com.json",
        "resources/deployments.apps/namespaces/app/web.json",
        "resources/namespaces/cluster/app.json",
        "resources/persistentvolumeclaims/namespaces/app/data.json",
        "resources/persistentvolumes/cluster/pv-app.json",
        "resources/pods/namespaces/app/web-0.json",
        "resources/secrets/namespaces/app/creds.json",
        "resources/widgets.example.com/namespaces/app/w1.json"
      ])
      assert.strictEqual(status.progress?.itemsBackedUp, paths.length - 1)
      // Objects exactly as the server had them at the recorded revision.
      const live = yield* kube.get(CONFIGMAPS, "settings", "app")
      assert.deepStrictEqual(objects.get("resources/configmaps/namespaces/app/settings.json"), live)
      assert.isTrue(Number(status.resourceVersion) >= Number(live.metadata.resourceVersion))

      assert.deepStrictEqual(
        yield* storedKeys,
        Object.values(backupKeys("b1"))
          .filter((key) => !key.endsWith("/") && !key.includes("volumesnapshots") && key !== backupKeys("b1").resource)
          .sort()
      )
      const committed = JSON.parse(yield* readGzipTextOrPlain(backupKeys("b1").metadata))
      assert.deepStrictEqual(committed, backup)
      const resourceList = JSON.parse(yield* readGzipText(backupKeys("b1").resourceList))
      assert.deepStrictEqual(resourceList["v1/ConfigMap"], ["app/settings"])
      assert.deepStrictEqual(resourceList["v1/PersistentVolume"], ["pv-app"])
      assert.deepStrictEqual(resourceList["example.com/v1/Widget"], ["app/w1"])
      assert.deepStrictEqual(JSON.parse(yield* readGzipText(backupKeys("b1").results)), { warnings: {}, errors: {} })
      const logLines = (yield* readGzipText(backupKeys("b1").logs)).trim().split("\n").map((line) => JSON.parse(line))
      assert.isTrue(logLines.every((line) =>
        typeof line.time === "string" && typeof line.level === "string" && typeof line.msg === "string"
      ))
      assert.isTrue(logLines.some((line) =>
        line.resource === "pods" && line.namespace === "app"
      ))
    }).pipe(Effect.provide(testLayer())))

  it.effect("never backs up events, even with every resource included", () =>
    Effect.gen(function*() {
      yield* seedApp
      const backup = yield* runBackup(makeBackup({}), deps)
      assert.strictEqual(backup.status?.phase, "Completed")
      const { paths } = yield* readTarball("b1")
      assert.isFalse(paths.some((path) => path.startsWith("resources/events")))
      assert.isTrue(paths.includes("resources/clusterroles.rbac.authorization.k8s.io/cluster/reader.json"))
      assert.isTrue(paths.includes("resources/persistentvolumes/cluster/pv-other.json"))
    }).pipe(Effect.provide(testLayer())))

  it.effect("lists every validation problem at once and uploads nothing", () =>
    Effect.gen(function*() {
      const decoded = makeBackup({
        includedResources: ["pods", "gizmos", "deployments.nowhere"],
        labelSelector: { matchLabels: { app: "web" } },
        orLabelSelectors: [{ matchLabels: { tier: "db" } }],
        storageLocation: "elsewhere"
      })
      // The CRD's pattern rejects such a ttl too; Ark checks it again for a Backup that got past it.
      const backup = yield* runBackup({ ...decoded, spec: { ...decoded.spec, ttl: "3 days" } }, deps)
      assert.strictEqual(backup.status?.phase, "FailedValidation")
      const errors = backup.status?.validationErrors ?? []
      assert.strictEqual(errors.length, 5, errors.join("\n"))
      assert.isTrue(errors.some((error) => error.includes(`"gizmos"`)))
      assert.isTrue(errors.some((error) => error.includes(`"deployments.nowhere"`)))
      assert.isTrue(errors.some((error) => error.startsWith("ttl:")))
      assert.isTrue(errors.some((error) => error.includes("mutually exclusive")))
      assert.isTrue(errors.some((error) => error.includes(`"elsewhere"`)))
      assert.deepStrictEqual(yield* storedKeys, [])
    }).pipe(Effect.provide(testLayer())))

  it.effect("reports a bad label selector as a validation error", () =>
    Effect.gen(function*() {
      const backup = yield* runBackup(
        makeBackup({ orLabelSelectors: [{ matchExpressions: [{ key: "app", operator: "In" }] }] }),
        deps
      )
      assert.strictEqual(backup.status?.phase, "FailedValidation")
      assert.match(backup.status?.validationErrors?.[0] ?? "", /^orLabelSelectors\[0\]: /)
    }).pipe(Effect.provide(testLayer())))

  it.effect("reads a gap-free prefix of concurrent writes, matching status.resourceVersion", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const created = yield* Ref.make<ReadonlyArray<number>>([]) // resourceVersion of cm-i at index i
      const writer = yield* Effect.forkScoped(
        Effect.iterate(0, {
          while: () => true,
          body: (i) =>
            kube.create(CONFIGMAPS, configMap("seq", `cm-${String(i).padStart(6, "0")}`)).pipe(
              Effect.flatMap((object) =>
                Ref.update(created, (all) => [...all, Number(object.metadata.resourceVersion)])
              ),
              Effect.zipRight(Effect.yieldNow()),
              Effect.as(i + 1)
            )
        }).pipe(Effect.orDie)
      )
      yield* kube.create({ group: "", version: "v1", resource: "namespaces" }, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "seq" }
      }).pipe(
        Effect.catchTag("KubeAlreadyExists", () => Effect.void)
      )
      // Wait (without a clock) until the writer is well under way.
      yield* Effect.iterate(0, {
        while: (n) => n < 50,
        body: () => Effect.yieldNow().pipe(Effect.zipRight(Ref.get(created)), Effect.map((all) => all.length))
      })
      const before = (yield* Ref.get(created)).length
      const backup = yield* runBackup(makeBackup({ includedNamespaces: ["seq"] }), { ...deps, pageSize: 7 })
      const after = (yield* Ref.get(created)).length
      yield* Fiber.interrupt(writer)
      assert.isAbove(after, before, "the writer kept writing during the backup")

      const { paths } = yield* readTarball("b1")
      const numbers = paths.filter((path) => path.startsWith("resources/configmaps/")).map((path) =>
        Number(/cm-(\d+)\.json$/.exec(path)![1])
      )
      assert.deepStrictEqual(numbers, numbers.map((_, i) => i), "a gap-free prefix")
      const revision = Number(backup.status?.resourceVersion)
      const rvs = yield* Ref.get(created)
      assert.strictEqual(
        numbers.length,
        rvs.filter((rv) => rv <= revision).length,
        "exactly the writes up to status.resourceVersion"
      )
    }).pipe(Effect.scoped, Effect.provide(testLayer())))

  it.effect("starts over at a new revision after 410 Gone mid-way, without duplicates", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      const kube = yield* KubeClient
      yield* control.seed(Array.from({ length: 60 }, (_, i) => configMap("app", `cm-${i}`)))
      const calls = yield* Ref.make(0)
      // After the first page is written: a new object, and compaction past the cut's revision.
      const onProgress = (progress: BackupProgress) =>
        Effect.gen(function*() {
          const n = yield* Ref.getAndUpdate(calls, (k) => k + 1)
          if (n === 2 && progress.itemsBackedUp > 0) {
            yield* kube.create(CONFIGMAPS, configMap("app", "late")).pipe(Effect.orDie)
            yield* control.compact().pipe(Effect.orDie)
          }
        })
      const backup = yield* runBackup(makeBackup({ includedNamespaces: ["app"], includedResources: ["configmaps"] }), {
        ...deps,
        pageSize: 10,
        onProgress
      })
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.consistency, "Exact")
      const { paths } = yield* readTarball("b1")
      assert.strictEqual(new Set(paths).size, paths.length, "no duplicate entries")
      assert.strictEqual(paths.length, 1 + 61)
      assert.isTrue(paths.includes("resources/configmaps/namespaces/app/late.json"), "the new revision's state")
      const late = yield* kube.get(CONFIGMAPS, "late", "app")
      assert.isTrue(Number(backup.status?.resourceVersion) >= Number(late.metadata.resourceVersion))
      assert.strictEqual(backup.status?.progress?.itemsBackedUp, 61)
      const log = yield* readGzipText(backupKeys("b1").logs)
      assert.include(log, "starting over at a new revision")
    }).pipe(Effect.provide(testLayer())))

  it.effect("progress gives a total only once every list is read", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      yield* control.seed(Array.from({ length: 25 }, (_, i) => configMap("app", `cm-${i}`)))
      const reports: Array<BackupProgress> = []
      const backup = yield* runBackup(makeBackup({ includedNamespaces: ["app"], includedResources: ["configmaps"] }), {
        ...deps,
        pageSize: 10,
        onProgress: (progress) => Effect.sync(() => void reports.push(progress))
      })
      assert.strictEqual(backup.status?.phase, "Completed")
      const last = reports.at(-1)
      assert.deepStrictEqual(last, { totalItems: 25, itemsBackedUp: 25 })
      const during = reports.slice(0, -1)
      assert.isAbove(during.length, 2, "counts while the lists are read")
      assert.isTrue(during.every((report) => report.totalItems === undefined), JSON.stringify(during))
      assert.deepStrictEqual(
        during.map((report) => report.itemsBackedUp),
        [...during.map((report) => report.itemsBackedUp)].sort((a, b) => a - b)
      )
    }).pipe(Effect.provide(testLayer())))

  it.effect("fails after the revision is compacted on every attempt, leaving nothing", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      for (let i = 0; i < 3; i++) {
        yield* control.failNext("list", new KubeGone({ resource: "namespaces", message: "too old" }))
      }
      const backup = yield* runBackup(makeBackup({}), deps)
      assert.strictEqual(backup.status?.phase, "Failed")
      assert.include(backup.status?.failureReason ?? "", "too old")
      assert.deepStrictEqual(yield* storedKeys, [])
    }).pipe(Effect.provide(testLayer())))

  it.effect("falls back to the newest state where an exact read is refused, and says BestEffort", () =>
    Effect.gen(function*() {
      yield* seedApp
      const refusing = Layer.effect(
        KubeClient,
        Effect.map(KubeClient, (client) => ({
          ...client,
          listPages: (gvr, options) =>
            gvr.resource === "widgets" && options?.resourceVersionMatch === "Exact"
              ? Stream.fail(
                new KubeInvalid({ resource: "widgets.example.com", message: "resourceVersionMatch is not supported" })
              )
              : client.listPages(gvr, options)
        }))
      )
      const backup = yield* runBackup(makeBackup({ includedNamespaces: ["app"] }), deps).pipe(Effect.provide(refusing))
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.consistency, "BestEffort")
      const { paths } = yield* readTarball("b1")
      assert.isTrue(paths.includes("resources/widgets.example.com/namespaces/app/w1.json"))
    }).pipe(Effect.provide(testLayer())))

  it.effect("reports an unavailable API group as a warning, not a failure", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      yield* control.failDiscovery("metrics.k8s.io/v1beta1", "service unavailable")
      const backup = yield* runBackup(makeBackup({}), deps)
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.warnings, 1)
      const results = JSON.parse(yield* readGzipText(backupKeys("b1").results))
      assert.include(results.warnings.ark[0], "metrics.k8s.io/v1beta1")
    }).pipe(Effect.provide(testLayer())))

  it.effect("counts a failed list as an error: PartiallyFailed", () =>
    Effect.gen(function*() {
      yield* seedApp
      const forbidding = Layer.effect(
        KubeClient,
        Effect.map(KubeClient, (client) => ({
          ...client,
          listPages: (gvr, options) =>
            gvr.resource === "secrets"
              ? Stream.fail(new KubeForbidden({ resource: "secrets", message: "secrets are forbidden" }))
              : client.listPages(gvr, options)
        }))
      )
      const backup = yield* runBackup(makeBackup({ includedNamespaces: ["app"] }), deps).pipe(
        Effect.provide(forbidding)
      )
      assert.strictEqual(backup.status?.phase, "PartiallyFailed")
      assert.strictEqual(backup.status?.errors, 1)
      const results = JSON.parse(yield* readGzipText(backupKeys("b1").results))
      assert.include(results.errors.namespaces.app[0], "secrets are forbidden")
      const { paths } = yield* readTarball("b1")
      assert.isFalse(paths.some((path) => path.startsWith("resources/secrets/")))
      assert.isTrue(yield* (yield* ObjectStore).exists(backupKeys("b1").metadata))
    }).pipe(Effect.provide(testLayer())))
})

/** ark-backup.json is plain JSON. */
const readGzipTextOrPlain = (key: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const chunks = yield* Stream.runCollect(store.get(key))
    return new TextDecoder().decode(Buffer.concat([...chunks]))
  })

describe("commit ordering", () => {
  /** A store that records puts in order and can fail the put of one key. */
  const recordingStore = (failKey: string | undefined) =>
    Layer.effect(
      ObjectStore,
      Effect.gen(function*() {
        const inner = yield* MemoryObjectStore.make()
        const puts = yield* Ref.make<ReadonlyArray<string>>([])
        const store: ObjectStore.Shape = {
          ...inner,
          put: (key, body) =>
            key === failKey
              ? Stream.runDrain(body).pipe(
                Effect.zipRight(
                  Effect.fail(new ObjectStoreError({ operation: "put", key, message: "disk full", retryable: false }))
                )
              )
              : inner.put(key, body).pipe(Effect.zipRight(Ref.update(puts, (all) => [...all, key])))
        }
        yield* Ref.set(putsRef, Option.some(puts))
        return store
      })
    )
  const putsRef = Ref.unsafeMake(Option.none<Ref.Ref<ReadonlyArray<string>>>())

  it.effect("writes ark-backup.json last", () =>
    Effect.gen(function*() {
      yield* seedApp
      const backup = yield* runBackup(makeBackup({}), deps)
      assert.strictEqual(backup.status?.phase, "Completed")
      const puts = yield* Ref.get(Option.getOrThrow(yield* Ref.get(putsRef)))
      assert.strictEqual(puts.at(-1), backupKeys("b1").metadata)
      assert.strictEqual(puts[0], backupKeys("b1").tarball)
      assert.strictEqual(puts.length, 5)
    }).pipe(Effect.provide(Layer.merge(MemoryKube.layer, recordingStore(undefined)))))

  it.effect("a failure before the commit leaves no ark-backup.json and removes the partial files", () =>
    Effect.gen(function*() {
      yield* seedApp
      const backup = yield* runBackup(makeBackup({}), deps)
      assert.strictEqual(backup.status?.phase, "Failed")
      assert.include(backup.status?.failureReason ?? "", "disk full")
      assert.isDefined(backup.status?.completionTimestamp)
      assert.deepStrictEqual(yield* storedKeys, [])
    }).pipe(Effect.provide(Layer.merge(MemoryKube.layer, recordingStore(backupKeys("b1").results)))))

  it.effect("never touches an already committed backup of the same name", () =>
    Effect.gen(function*() {
      const store = yield* ObjectStore
      yield* store.put(backupKeys("b1").metadata, Stream.make(new TextEncoder().encode("{}")))
      yield* store.put(backupKeys("b1").tarball, Stream.make(new Uint8Array([1])))
      const backup = yield* runBackup(makeBackup({}), deps)
      assert.strictEqual(backup.status?.phase, "Failed")
      assert.deepStrictEqual(yield* storedKeys, [backupKeys("b1").metadata, backupKeys("b1").tarball].sort())
    }).pipe(Effect.provide(testLayer())))
})

describe("scale", () => {
  // How fast is for bench/: here, that every one of 10k objects over many list pages is stored once.
  it.effect("backs up 10k objects on Memory layers, each exactly once, at one revision", () =>
    Effect.gen(function*() {
      const control = yield* MemoryKube.MemoryKube
      const objects: Array<KubeObject> = []
      for (let i = 0; i < 10_000; i++) {
        objects.push(
          i % 2 === 0
            ? configMap(`ns-${i % 10}`, `cm-${i}`, { app: "bench" }, { payload: "x".repeat(900) })
            : secret(`ns-${i % 10}`, `s-${i}`, { app: "bench" })
        )
      }
      yield* control.seed(objects)
      const backup = yield* runBackup(makeBackup({}), deps)
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.consistency, "Exact")
      const { paths } = yield* readTarball("b1")
      assert.strictEqual(new Set(paths).size, paths.length, "no entry twice")
      const resourceOf = (object: KubeObject) => object.kind === "Secret" ? "secrets" : "configmaps"
      assert.sameMembers(
        paths.filter((path) => path.startsWith("resources/configmaps/") || path.startsWith("resources/secrets/")),
        objects.map((object) =>
          `resources/${resourceOf(object)}/namespaces/${object.metadata.namespace}/${object.metadata.name}.json`
        )
      )
      assert.strictEqual(backup.status?.progress?.itemsBackedUp, paths.length - 1, "every entry but metadata/version")
    }).pipe(Effect.provide(testLayer())))
})
