// The restore pipeline on Memory layers: ownership skips, ordering, CRDs, existing-object
// policies, dry run, broken archives, validation, logs and results.
import * as zlib from "node:zlib"

import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Either, Option, Stream } from "effect"
import * as tar from "tar-stream"

import type { GroupVersionResource, KubeClient, KubeObject } from "../../services/KubeClient.ts"
import { KubeForbidden } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup } from "../../src/api/backup.ts"
import { backupNameLabel, nameLabelValue, restoreNameLabel } from "../../src/api/index.ts"
import { backupKeys, restoreKeys } from "../../src/archive/layout.ts"
import { defaultMaxEntryBytes } from "../../src/archive/reader.ts"
import { differsReason, validateRestore } from "../../src/restore/run.ts"
import {
  configMap,
  deployment,
  makeBackup,
  namespace,
  persistentVolume,
  persistentVolumeClaim,
  pod,
  readGzipText,
  secret,
  widget,
  widgetCrd
} from "../backup/fixtures.ts"
import type { World } from "./fixtures.ts"
import {
  backupSource,
  dryRunInto,
  dump,
  makeRestore,
  makeWorld,
  objectKey,
  replicaSet,
  restoreInto,
  seedOwned,
  service
} from "./fixtures.ts"

const CONFIGMAPS: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }

const seedDeployment = (world: World, ns: string) =>
  Effect.gen(function*() {
    const d = yield* seedOwned(world.source, deployment(ns, "web"))
    const rs = yield* seedOwned(world.source, replicaSet(ns, "web-5d8f"), d)
    yield* seedOwned(world.source, pod(ns, "web-5d8f-a", { app: "web" }), rs)
    yield* seedOwned(world.source, pod(ns, "web-5d8f-b", { app: "web" }), rs)
  })

const completedBackup = (world: World, spec: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const backup = yield* backupSource(world, spec)
    assert.strictEqual(backup.status?.phase, "Completed")
    return backup
  })

describe("runRestore", () => {
  it.effect("a Deployment comes back alone: its ReplicaSet and pods are skipped because their owner recreates them", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* seedDeployment(world, "app")
      const backup = yield* completedBackup(world)
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup)
      assert.strictEqual(run.restore.status?.phase, "Completed")
      const objects = yield* dump(world.target)
      assert.isTrue(objects.has(objectKey("deployments.apps", "app", "web")))
      assert.isFalse(objects.has(objectKey("replicasets.apps", "app", "web-5d8f")))
      assert.isFalse(objects.has(objectKey("pods", "app", "web-5d8f-a")))
      assert.strictEqual(run.counts.skipped, 3)
      const entries = yield* dryRunInto(world.target, world, makeRestore({}, "r2"), backup)
      const reasons = new Map(
        entries.filter((entry) => entry.action === "skip").map((entry) => [entry.name, entry.reason])
      )
      assert.strictEqual(reasons.get("web-5d8f"), "owned by a restored Deployment: web")
      assert.strictEqual(reasons.get("web-5d8f-a"), "owned by a ReplicaSet its own owner recreates: web-5d8f")
    }))

  it.effect("pods whose ReplicaSet is not in the backup are restored", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* seedDeployment(world, "app")
      const backup = yield* completedBackup(world, { includedResources: ["pods"] })
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup)
      assert.strictEqual(run.counts.created, 2)
      assert.strictEqual(run.counts.skipped, 0)
      const restored = yield* world.target.client.get(
        { group: "", version: "v1", resource: "pods" },
        "web-5d8f-a",
        "app"
      )
      assert.isUndefined(restored.metadata.ownerReferences)
    }))

  it.effect("orLabelSelectors restores the objects any selector matches, and only those", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([
        namespace("app"),
        configMap("app", "web", { tier: "web" }),
        configMap("app", "cache", { tier: "cache" }),
        configMap("app", "db", { tier: "db" }),
        configMap("app", "plain")
      ])
      const backup = yield* completedBackup(world, { includedNamespaces: ["app"] })
      const restore = makeRestore({
        orLabelSelectors: [{ matchLabels: { tier: "web" } }, {
          matchExpressions: [{ key: "tier", operator: "In", values: ["cache"] }]
        }]
      })
      const run = yield* restoreInto(world.target, world, restore, backup)
      assert.strictEqual(run.restore.status?.phase, "Completed")
      const restored = [...(yield* dump(world.target)).keys()].filter((key) => key.startsWith("configmaps "))
      assert.deepStrictEqual(restored.sort(), [
        objectKey("configmaps", "app", "cache"),
        objectKey("configmaps", "app", "web")
      ])
    }))

  it.effect("restores into a cluster that never had the CRD: CRD first, then namespaces, then the priority list, then the rest", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([
        widgetCrd(),
        namespace("shop"),
        widget("shop", "w1"),
        persistentVolume("pv-1"),
        persistentVolumeClaim("shop", "data", "pv-1"),
        secret("shop", "s1"),
        configMap("shop", "c1"),
        pod("shop", "p1")
      ])
      const backup = yield* completedBackup(world)
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup, { concurrency: 4 })
      assert.strictEqual(run.restore.status?.phase, "Completed")
      assert.strictEqual(run.counts.created, 8)
      const objects = yield* dump(world.target)
      const revision = (key: string) => Number(objects.get(key)?.metadata.resourceVersion ?? Number.NaN)
      const order = [
        objectKey("customresourcedefinitions.apiextensions.k8s.io", undefined, "widgets.example.com"),
        objectKey("namespaces", undefined, "shop"),
        objectKey("persistentvolumes", undefined, "pv-1"),
        objectKey("persistentvolumeclaims", "shop", "data"),
        objectKey("secrets", "shop", "s1"),
        objectKey("configmaps", "shop", "c1"),
        objectKey("pods", "shop", "p1"),
        objectKey("widgets.example.com", "shop", "w1")
      ]
      const revisions = order.map(revision)
      for (let i = 1; i < revisions.length; i++) {
        assert.isTrue(
          revisions[i - 1]! < revisions[i]!,
          `${order[i - 1]} (${revisions[i - 1]}) before ${order[i]} (${revisions[i]})`
        )
      }
      const restoredWidget = objects.get(objectKey("widgets.example.com", "shop", "w1"))!
      assert.deepStrictEqual(restoredWidget.metadata.labels, { [restoreNameLabel]: "r1", [backupNameLabel]: "b1" })
    }))

  it.effect("a ServiceAccount's token Secret is restored after the account, without the old uid and token", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const account: KubeObject = {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "builder", namespace: "shop" }
      }
      const token: KubeObject = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: "builder-token",
          namespace: "shop",
          annotations: { "kubernetes.io/service-account.name": "builder", "kubernetes.io/service-account.uid": "old" }
        },
        type: "kubernetes.io/service-account-token",
        data: { token: "dA==", "ca.crt": "Yw==", namespace: "c2hvcA==" }
      }
      yield* world.source.control.seed([namespace("shop"), token, account, secret("shop", "plain")])
      const backup = yield* completedBackup(world)
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup)
      assert.strictEqual(run.restore.status?.phase, "Completed")
      const objects = yield* dump(world.target)
      const revision = (key: string) => Number(objects.get(key)?.metadata.resourceVersion ?? Number.NaN)
      const plain = revision(objectKey("secrets", "shop", "plain"))
      const sa = revision(objectKey("serviceaccounts", "shop", "builder"))
      const restoredToken = objects.get(objectKey("secrets", "shop", "builder-token"))!
      assert.isTrue(plain < sa && sa < Number(restoredToken.metadata.resourceVersion), `${plain} ${sa}`)
      assert.deepStrictEqual(restoredToken.metadata.annotations, { "kubernetes.io/service-account.name": "builder" })
      assert.isUndefined(restoredToken["data"])
    }))

  it.effect("namespace mapping: abc→def and 123→456 in one restore; a target namespace missing from the backup is created", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([configMap("abc", "c1"), configMap("123", "c2"), service("abc", "web")])
      const backup = yield* completedBackup(world, { includedResources: ["configmaps", "services"] })
      const run = yield* restoreInto(
        world.target,
        world,
        makeRestore({ namespaceMapping: { abc: "def", "123": "456" } }),
        backup
      )
      assert.strictEqual(run.restore.status?.phase, "Completed")
      const objects = yield* dump(world.target)
      assert.isTrue(objects.has(objectKey("configmaps", "def", "c1")))
      assert.isTrue(objects.has(objectKey("configmaps", "456", "c2")))
      assert.isFalse(objects.has(objectKey("namespaces", undefined, "abc")))
      assert.strictEqual(
        objects.get(objectKey("namespaces", undefined, "def"))?.metadata.labels?.[restoreNameLabel],
        "r1"
      )
      const svc = objects.get(objectKey("services", "def", "web"))!
      assert.isUndefined((svc["spec"] as Record<string, unknown>)["clusterIP"])
    }))

  it.effect("policy none leaves a differing object and warns; policy update patches it; a second run changes nothing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([
        configMap("app", "same", {}, { k: "v" }),
        configMap("app", "diff", { tier: "web" }, { k: "backup" })
      ])
      const backup = yield* completedBackup(world)
      yield* world.target.control.seed([
        configMap("app", "same", {}, { k: "v" }),
        configMap("app", "diff", { extra: "x" }, { k: "live" })
      ])
      const before = yield* world.target.client.get(CONFIGMAPS, "diff", "app")

      const none = yield* restoreInto(world.target, world, makeRestore({ includedNamespaces: ["app"] }), backup)
      assert.strictEqual(none.restore.status?.phase, "Completed")
      assert.strictEqual(none.restore.status?.warnings, 1)
      assert.strictEqual(none.counts.differs, 1)
      assert.strictEqual(none.counts.unchanged, 2) // the namespace and "same"
      const kept = yield* world.target.client.get(CONFIGMAPS, "diff", "app")
      assert.strictEqual(kept.metadata.resourceVersion, before.metadata.resourceVersion)
      const results = JSON.parse(
        yield* readGzipText(restoreKeys("r1").results).pipe(Effect.provideService(ObjectStore, world.store))
      )
      assert.match(
        results.warnings.namespaces.app[0],
        /configmaps app\/diff: exists and differs.*data\.k: "live" → "backup"/
      )

      const update = yield* restoreInto(
        world.target,
        world,
        makeRestore({ includedNamespaces: ["app"], existingResourcePolicy: "update" }, "r2"),
        backup
      )
      assert.strictEqual(update.counts.updated, 1)
      assert.strictEqual(update.restore.status?.warnings, 0)
      const patched = yield* world.target.client.get(CONFIGMAPS, "diff", "app")
      assert.deepStrictEqual(patched["data"], { k: "backup" })
      assert.deepStrictEqual(patched.metadata.labels, {
        tier: "web",
        [restoreNameLabel]: "r2",
        [backupNameLabel]: "b1"
      })

      const revision = yield* world.target.control.currentRevision
      const again = yield* restoreInto(
        world.target,
        world,
        makeRestore({ includedNamespaces: ["app"], existingResourcePolicy: "update" }, "r3"),
        backup
      )
      assert.strictEqual(again.counts.unchanged, 3)
      assert.strictEqual(yield* world.target.control.currentRevision, revision)
    }))

  it.effect("policy update under a long restore name: the full name is annotated, and annotations the backup lacks go", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([configMap("app", "diff", {}, { k: "backup" })])
      const backup = yield* completedBackup(world)
      const live = configMap("app", "diff", {}, { k: "live" })
      yield* world.target.control.seed([{
        ...live,
        metadata: { ...live.metadata, annotations: { note: "live only" } }
      }])
      const name = "r".repeat(100)
      const update = yield* restoreInto(
        world.target,
        world,
        makeRestore({ includedNamespaces: ["app"], existingResourcePolicy: "update" }, name),
        backup
      )
      assert.strictEqual(update.counts.updated, 1)
      const patched = yield* world.target.client.get(CONFIGMAPS, "diff", "app")
      assert.deepStrictEqual(patched["data"], { k: "backup" })
      assert.deepStrictEqual(patched.metadata.annotations, { [restoreNameLabel]: name })
      assert.deepStrictEqual(patched.metadata.labels, {
        [restoreNameLabel]: nameLabelValue(name),
        [backupNameLabel]: "b1"
      })
    }))

  it.effect("dry run on a partly-present namespace: create, unchanged, conflict with a diff, skip — and writes nothing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([
        configMap("shop", "new"),
        configMap("shop", "same", {}, { k: "v" }),
        configMap("shop", "diff", {}, { k: "backup", n: "1" })
      ])
      yield* seedDeployment(world, "shop")
      const backup = yield* completedBackup(world)
      yield* world.target.control.seed([
        configMap("shop", "same", {}, { k: "v" }),
        configMap("shop", "diff", {}, { k: "live", n: "1" })
      ])
      const revision = yield* world.target.control.currentRevision
      const entries = yield* dryRunInto(world.target, world, makeRestore({}), backup)
      assert.strictEqual(yield* world.target.control.currentRevision, revision)
      const byName = new Map(entries.map((entry) => [`${entry.resource} ${entry.name}`, entry]))
      assert.strictEqual(byName.get("configmaps new")?.action, "create")
      assert.strictEqual(byName.get("configmaps same")?.action, "unchanged")
      assert.strictEqual(byName.get("namespaces shop")?.action, "unchanged")
      assert.strictEqual(byName.get("deployments.apps web")?.action, "create")
      const conflict = byName.get("configmaps diff")
      assert.strictEqual(conflict?.action, "conflict")
      assert.deepStrictEqual(conflict?.diff, ["data.k: \"live\" → \"backup\""])
      assert.strictEqual(conflict?.namespace, "shop")
      assert.strictEqual(byName.get("replicasets.apps web-5d8f")?.action, "skip")
      assert.strictEqual(byName.get("pods web-5d8f-b")?.action, "skip")
      // The backup also holds the cluster's initial namespaces: unchanged here.
      assert.strictEqual(entries.length, 12)
      assert.strictEqual(byName.get("namespaces kube-system")?.action, "unchanged")
    }))

  it.effect("dry run with a mapping reports target namespaces; a custom resource whose CRD is in the backup would be created", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([widgetCrd(), widget("abc", "w1")])
      const backup = yield* completedBackup(world)
      const entries = yield* dryRunInto(world.target, world, makeRestore({ namespaceMapping: { abc: "def" } }), backup)
      const w1 = entries.find((entry) => entry.name === "w1")
      assert.deepStrictEqual([w1?.action, w1?.namespace], ["create", "def"])
      assert.isTrue(
        entries.some((entry) => entry.resource === "namespaces" && entry.name === "def" && entry.action === "create")
      )
    }))

  it.effect("per-item API errors count as errors: PartiallyFailed, the rest restored", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([configMap("app", "a"), configMap("app", "b")])
      const backup = yield* completedBackup(world, { includedResources: ["configmaps"] })
      yield* world.target.control.seed([namespace("app")])
      yield* world.target.control.failNext(
        "create",
        new KubeForbidden({ resource: "configmaps", message: "configmaps is forbidden" })
      )
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup, { concurrency: 1 })
      assert.strictEqual(run.restore.status?.phase, "PartiallyFailed")
      assert.strictEqual(run.restore.status?.errors, 1)
      assert.strictEqual(run.counts.created, 1)
      const log = yield* readGzipText(restoreKeys("r1").logs).pipe(Effect.provideService(ObjectStore, world.store))
      assert.match(log, /"level":"error","msg":"configmaps is forbidden"/)
    }))

  // Live clock: the fake waits out each 1 ms Retry-After as the live client would.
  it.live("429s met on the way restore everything: the window halves and the log says where it settled", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const names = Array.from({ length: 60 }, (_, i) => `c${i}`)
      yield* world.source.control.seed(names.map((name) => configMap("app", name)))
      const backup = yield* completedBackup(world, { includedNamespaces: ["app"] })
      for (let i = 0; i < 5; i++) yield* world.target.control.throttleNext("create", Duration.millis(1))
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup)
      assert.strictEqual(run.restore.status?.phase, "Completed")
      assert.strictEqual(run.counts.created, 61)
      assert.strictEqual(run.window?.throttled, 5)
      assert.isBelow(run.window?.size ?? 16, 16)
      const restored = yield* dump(world.target)
      for (const name of names) assert.isTrue(restored.has(objectKey("configmaps", "app", name)), name)
      const log = yield* readGzipText(restoreKeys("r1").logs).pipe(Effect.provideService(ObjectStore, world.store))
      assert.match(log, /"msg":"concurrency settled at \d+ items at once \(peak 16, at most 128; 5 requests throttled/)
    }))

  it.effect("the status counts every selected item by outcome, skips grouped by why; the items file names each", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* seedDeployment(world, "app")
      yield* world.source.control.seed([
        configMap("app", "same", {}, { k: "v" }),
        configMap("app", "diff", {}, { k: "backup" }),
        configMap("app", "new", {}, { k: "v" })
      ])
      const backup = yield* completedBackup(world)
      yield* world.target.control.seed([
        configMap("app", "same", {}, { k: "v" }),
        configMap("app", "diff", {}, { k: "live" })
      ])
      const run = yield* restoreInto(world.target, world, makeRestore({ includedNamespaces: ["app"] }), backup)
      assert.strictEqual(run.restore.status?.phase, "Completed")
      assert.deepStrictEqual(run.restore.status?.outcomes, {
        created: 2,
        updated: 0,
        unchanged: 2,
        skipped: 4,
        failed: 0,
        skippedReasons: [
          { reason: "owned by a ReplicaSet its own owner recreates", count: 2 },
          { reason: differsReason, count: 1 },
          { reason: "owned by a restored Deployment", count: 1 }
        ]
      })
      // The log's last count line agrees with the status.
      const log = yield* readGzipText(restoreKeys("r1").logs).pipe(Effect.provideService(ObjectStore, world.store))
      assert.include(
        log,
        "restore r1 Completed: 2 created, 0 updated, 2 unchanged, 4 skipped (1 existing and different, left as is), 0 failed"
      )
      const items = (yield* readGzipText(restoreKeys("r1").items).pipe(Effect.provideService(ObjectStore, world.store)))
        .trim().split("\n").map((line) => JSON.parse(line))
      const byName = new Map(items.map((item) => [`${item.resource}/${item.name}`, item]))
      assert.strictEqual(items.length, 8, JSON.stringify(items))
      assert.deepStrictEqual(byName.get("configmaps/new"), {
        outcome: "created",
        resource: "configmaps",
        namespace: "app",
        name: "new"
      })
      assert.strictEqual(byName.get("deployments.apps/web")?.outcome, "created")
      assert.strictEqual(byName.get("configmaps/same")?.outcome, "unchanged")
      assert.strictEqual(byName.get("namespaces/app")?.outcome, "unchanged")
      assert.strictEqual(byName.get("configmaps/diff")?.outcome, "skipped")
      assert.match(byName.get("configmaps/diff")?.reason, /^exists and differs.*: data\.k: "live" → "backup"$/)
      assert.deepStrictEqual(byName.get("replicasets.apps/web-5d8f"), {
        outcome: "skipped",
        resource: "replicasets.apps",
        namespace: "app",
        name: "web-5d8f",
        reason: "owned by a restored Deployment: web"
      })
      assert.strictEqual(
        byName.get("pods/web-5d8f-b")?.reason,
        "owned by a ReplicaSet its own owner recreates: web-5d8f"
      )
    }))

  it.effect("logs and results are uploaded as gzip; progress reaches the total", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([configMap("app", "a"), secret("app", "s")])
      const backup = yield* completedBackup(world, { includedNamespaces: ["app"] })
      const progress: Array<{ totalItems: number; itemsRestored: number }> = []
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup, {
        onProgress: (p) => Effect.sync(() => void progress.push({ ...p }))
      })
      assert.deepStrictEqual(run.restore.status?.progress, { totalItems: 3, itemsRestored: 3 })
      assert.deepStrictEqual(progress.at(-1), { totalItems: 3, itemsRestored: 3 })
      assert.isString(run.restore.status?.startTimestamp)
      assert.isString(run.restore.status?.completionTimestamp)
      const log = yield* readGzipText(restoreKeys("r1").logs).pipe(Effect.provideService(ObjectStore, world.store))
      const lines = log.trim().split("\n").map((line) => JSON.parse(line))
      assert.isTrue(lines.every((line) => line.restore === "r1"))
      assert.isTrue(
        lines.some((line) => line.msg === "restored" && line.resource === "secrets" && line.namespace === "app")
      )
      const results = JSON.parse(
        yield* readGzipText(restoreKeys("r1").results).pipe(Effect.provideService(ObjectStore, world.store))
      )
      assert.deepStrictEqual(results, { warnings: {}, errors: {} })
    }))
})

const tarball = (entries: ReadonlyArray<{ readonly name: string; readonly body: string }>) =>
  Effect.promise(() =>
    new Promise<Uint8Array>((resolve, reject) => {
      const pack = tar.pack()
      const chunks: Array<Buffer> = []
      const gzip = zlib.createGzip()
      gzip.on("data", (chunk: Buffer) => chunks.push(chunk))
      gzip.on("end", () => resolve(Buffer.concat(chunks)))
      gzip.on("error", reject)
      pack.pipe(gzip)
      for (const entry of entries) pack.entry({ name: entry.name }, entry.body)
      pack.finalize()
    })
  )

const craftedBackup = (world: World, bytes: Uint8Array): Effect.Effect<Backup, never> =>
  Effect.gen(function*() {
    yield* world.store.put(backupKeys("bad").tarball, Stream.make(bytes)).pipe(Effect.orDie)
    return { ...makeBackup({}, "bad"), status: { phase: "Completed" } }
  })

const cm = (ns: string, name: string) => JSON.stringify(configMap(ns, name))

describe("runRestore on broken archives", () => {
  it.effect("a traversal entry fails the restore, names the entry, and creates nothing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const bytes = yield* tarball([
        { name: "metadata/version", body: "1.0.0" },
        { name: "resources/configmaps/namespaces/app/a.json", body: cm("app", "a") },
        { name: "resources/../../etc/passwd", body: "root" }
      ])
      const backup = yield* craftedBackup(world, bytes)
      const revision = yield* world.target.control.currentRevision
      const run = yield* restoreInto(world.target, world, makeRestore({ backupName: "bad" }), backup)
      assert.strictEqual(run.restore.status?.phase, "Failed")
      assert.include(run.restore.status?.failureReason ?? "", "resources/../../etc/passwd")
      assert.strictEqual(yield* world.target.control.currentRevision, revision)
      const keys = (yield* world.store.list("")).objects.map((object) => object.key).sort()
      assert.deepStrictEqual(
        keys,
        [backupKeys("bad").tarball, restoreKeys("r1").logs, restoreKeys("r1").results, restoreKeys("r1").items].sort()
      )
      const items = yield* readGzipText(restoreKeys("r1").items).pipe(Effect.provideService(ObjectStore, world.store))
      assert.strictEqual(items, "", "no item was decided")
    }))

  it.effect("a corrupt gzip fails the restore and creates nothing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const good = yield* tarball([{ name: "resources/configmaps/namespaces/app/a.json", body: cm("app", "a") }])
      const corrupt = Uint8Array.from(good)
      for (let i = 20; i < corrupt.length - 8; i++) corrupt[i] = corrupt[i]! ^ 0x5a
      const backup = yield* craftedBackup(world, corrupt)
      const revision = yield* world.target.control.currentRevision
      const run = yield* restoreInto(world.target, world, makeRestore({ backupName: "bad" }), backup)
      assert.strictEqual(run.restore.status?.phase, "Failed")
      assert.match(run.restore.status?.failureReason ?? "", /reading the backup failed: .*(gzip|tar)/)
      assert.strictEqual(yield* world.target.control.currentRevision, revision)
    }))

  it.effect("a truncated tarball fails; a missing tarball fails naming its key; the dry run fails the same way", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const unzipped = zlib.gunzipSync(
        yield* tarball([{ name: "resources/configmaps/namespaces/app/a.json", body: cm("app", "a") }])
      )
      const backup = yield* craftedBackup(world, zlib.gzipSync(unzipped.subarray(0, 512)))
      const run = yield* restoreInto(world.target, world, makeRestore({ backupName: "bad" }), backup)
      assert.strictEqual(run.restore.status?.phase, "Failed")
      const missing = { ...makeBackup({}, "gone"), status: { phase: "Completed" as const } }
      const gone = yield* restoreInto(world.target, world, makeRestore({ backupName: "gone" }), missing)
      assert.include(gone.restore.status?.failureReason ?? "", "backups/gone/gone.tar.gz")
      const dry = yield* dryRunInto(world.target, world, makeRestore({ backupName: "bad" }), backup).pipe(Effect.either)
      assert.isTrue(Either.isLeft(dry) && dry.left._tag === "RestoreFailed")
    }))

  it.effect("an entry whose object disagrees with its path is an item error, not a way around the filters", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const bytes = yield* tarball([
        { name: "resources/configmaps/namespaces/app/a.json", body: cm("kube-system", "a") },
        { name: "resources/configmaps/namespaces/app/b.json", body: cm("app", "b") }
      ])
      const backup = yield* craftedBackup(world, bytes)
      const run = yield* restoreInto(
        world.target,
        world,
        makeRestore({ backupName: "bad", includedNamespaces: ["app"] }),
        backup
      )
      assert.strictEqual(run.restore.status?.phase, "PartiallyFailed")
      assert.strictEqual(run.counts.created, 1)
      const leaked = yield* world.target.client.get(CONFIGMAPS, "a", "kube-system").pipe(Effect.option)
      assert.isTrue(Option.isNone(leaked))
    }))
})

describe("validateRestore", () => {
  const withDiscovery = <A>(f: (discovery: Effect.Effect.Success<KubeClient.Shape["discover"]>) => A) =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      return f(yield* world.target.client.discover)
    })

  it.effect("names every problem at once", () =>
    withDiscovery((discovery) => {
      const restore = makeRestore({
        includedResources: ["configmaps", "gizmos"],
        labelSelector: { matchExpressions: [{ key: "app", operator: "In" }] },
        namespaceMapping: { abc: "Not_A_Label", ok: "fine" }
      })
      const problems = validateRestore(restore, Option.none(), discovery)
      assert.deepStrictEqual(problems, [
        "backup \"b1\" not found",
        "includedResources: unknown resource \"gizmos\"",
        "labelSelector: operator In on \"app\" needs values",
        "namespaceMapping: target namespace \"Not_A_Label\" (for \"abc\") must be a DNS label (lowercase letters, digits and '-', at most 63)"
      ])
    }))

  it.effect("labelSelector and orLabelSelectors together are refused", () =>
    withDiscovery((discovery) => {
      const restore = makeRestore({
        labelSelector: { matchLabels: { app: "web" } },
        orLabelSelectors: [{ matchLabels: { tier: "cache" } }]
      })
      const backup = Option.some<Backup>({ ...makeBackup({}, "b1"), status: { phase: "Completed" } })
      assert.deepStrictEqual(validateRestore(restore, backup, discovery), [
        "labelSelector and orLabelSelectors are mutually exclusive: set only one"
      ])
    }))

  it.effect("a backup that is not Completed or PartiallyFailed cannot be restored; a qualified CR name is accepted before its CRD exists", () =>
    withDiscovery((discovery) => {
      const failed: Backup = { ...makeBackup({}, "b1"), status: { phase: "Failed" } }
      assert.deepStrictEqual(validateRestore(makeRestore({}), Option.some(failed), discovery), [
        "backup \"b1\" is in phase Failed: only Completed or PartiallyFailed backups can be restored"
      ])
      const partial: Backup = { ...failed, status: { phase: "PartiallyFailed" } }
      assert.deepStrictEqual(
        validateRestore(
          makeRestore({ includedResources: ["widgets.example.com", "deploy"] }),
          Option.some(partial),
          discovery
        ),
        []
      )
    }))

  it.effect("two sources onto one target, and a target that is also a source, are named", () =>
    withDiscovery((discovery) => {
      const backup = Option.some<Backup>({ ...makeBackup({}, "b1"), status: { phase: "Completed" } })
      assert.deepStrictEqual(
        validateRestore(makeRestore({ namespaceMapping: { a: "x", b: "x", c: "c" } }), backup, discovery),
        ["namespaceMapping: \"a\", \"b\" are all mapped to \"x\""]
      )
      assert.deepStrictEqual(
        validateRestore(makeRestore({ namespaceMapping: { a: "b", b: "c" } }), backup, discovery),
        [
          "namespaceMapping: \"b\" is both a target (of \"a\") and mapped to \"c\""
        ]
      )
    }))

  it.effect("a colliding mapping makes the Restore FailedValidation and touches nothing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const revision = yield* world.target.control.currentRevision
      const run = yield* restoreInto(
        world.target,
        world,
        makeRestore({ namespaceMapping: { abc: "x", "123": "x" } }),
        { ...makeBackup({}, "b1"), status: { phase: "Completed" } }
      )
      assert.strictEqual(run.restore.status?.phase, "FailedValidation")
      assert.deepStrictEqual(run.restore.status?.validationErrors, [
        "namespaceMapping: \"123\", \"abc\" are all mapped to \"x\""
      ])
      assert.strictEqual(yield* world.target.control.currentRevision, revision)
    }))

  it.effect("runRestore turns problems into FailedValidation and touches nothing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const revision = yield* world.target.control.currentRevision
      const restore = makeRestore({ namespaceMapping: { abc: "UPPER" } })
      const run = yield* restoreInto(world.target, world, restore, {
        ...makeBackup({}, "b1"),
        status: { phase: "InProgress" }
      })
      assert.strictEqual(run.restore.status?.phase, "FailedValidation")
      assert.strictEqual(run.restore.status?.validationErrors?.length, 2)
      assert.strictEqual(yield* world.target.control.currentRevision, revision)
      assert.deepStrictEqual((yield* world.store.list("")).objects, [])
    }))
})

describe("runRestore on a duplicate entry", () => {
  it.effect("is an item error naming the path: the rest is restored, no copy of it is, and the restore is PartiallyFailed", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const duplicate = "resources/configmaps/namespaces/app/a.json"
      const bytes = yield* tarball([
        { name: "metadata/version", body: "1.0.0" },
        { name: duplicate, body: cm("app", "a") },
        { name: "resources/configmaps/namespaces/app/b.json", body: cm("app", "b") },
        { name: duplicate, body: cm("app", "a") }
      ])
      const backup = yield* craftedBackup(world, bytes)
      const run = yield* restoreInto(world.target, world, makeRestore({ backupName: "bad" }), backup)
      assert.strictEqual(run.restore.status?.phase, "PartiallyFailed")
      assert.strictEqual(run.restore.status?.errors, 1)
      assert.strictEqual(run.counts.created, 1)
      assert.isTrue(Option.isNone(yield* world.target.client.get(CONFIGMAPS, "a", "app").pipe(Effect.option)))
      assert.isTrue(Option.isSome(yield* world.target.client.get(CONFIGMAPS, "b", "app").pipe(Effect.option)))
      const results = JSON.parse(
        yield* readGzipText(restoreKeys("r1").results).pipe(Effect.provideService(ObjectStore, world.store))
      )
      assert.deepStrictEqual(results.errors, {
        namespaces: {
          app: ["configmaps app/a: cannot be restored: the archive holds this path more than once; no copy is restored"]
        }
      })
      const log = yield* readGzipText(restoreKeys("r1").logs).pipe(Effect.provideService(ObjectStore, world.store))
      assert.include(log, duplicate)
      const dry = yield* dryRunInto(world.target, world, makeRestore({ backupName: "bad" }), backup)
      assert.deepStrictEqual(dry.filter((entry) => entry.name === "a").map((entry) => entry.action), ["skip"])
    }))
})

describe("runRestore on an oversized entry", () => {
  it.effect("fails the restore naming the entry and the limit, before anything is created", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const bytes = yield* tarball([
        { name: "metadata/version", body: "1.0.0" },
        { name: "resources/configmaps/namespaces/app/a.json", body: cm("app", "a") },
        { name: "resources/configmaps/namespaces/app/big.json", body: " ".repeat(defaultMaxEntryBytes + 1) }
      ])
      const backup = yield* craftedBackup(world, bytes)
      const revision = yield* world.target.control.currentRevision
      const run = yield* restoreInto(world.target, world, makeRestore({ backupName: "bad" }), backup)
      assert.strictEqual(run.restore.status?.phase, "Failed")
      assert.strictEqual(
        run.restore.status?.failureReason,
        `reading the backup failed: unreadable archive at entry "resources/configmaps/namespaces/app/big.json": entry of ${
          defaultMaxEntryBytes + 1
        } bytes exceeds the ${defaultMaxEntryBytes}-byte limit`
      )
      assert.strictEqual(yield* world.target.control.currentRevision, revision)
    }))
})
