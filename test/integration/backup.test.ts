// The backup pipeline on the real control plane and MinIO (issue 4's real-cluster tests): runBackup
// runs in-process over the live KubeClient and the S3 store; what it stored is read back and
// compared with the server's own Exact lists at the backup's status.resourceVersion.
import { randomUUID } from "node:crypto"

import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Option, Ref, Schema } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { Backup } from "../../src/api/backup.ts"
import { backupKeys, formatVersion } from "../../src/archive/layout.ts"
import { runBackup } from "../../src/backup/run.ts"
import { decodeBackup } from "../../src/server/controllers/backupValidation.ts"
import { waitFor } from "../support/wait.ts"
import {
  backupableResources,
  cleanupMixedNamespace,
  clusterObjectAt,
  entryOf,
  gvr,
  listAt,
  makeBackup,
  minio,
  mixedNamespace,
  namespaceAt,
  pickLabel,
  readTarball,
  readText,
  seedMixedNamespace,
  storedKeys
} from "./backupFixtures.ts"
import { liveKube } from "./live.ts"

const run = randomUUID().slice(0, 8)
const deps = { storageLocations: ["default"] }

/** The live cluster and MinIO under a prefix of this test's own. */
const live = (test: string) => Layer.merge(liveKube(), minio(`ark-it-backup-${run}/${test}`))

const fixture = mixedNamespace(run)
const seeded = { done: false }
/** The mixed namespace, once seeded; a failed seed fails every test that uses it. */
const mixed = Effect.suspend(
  () => (seeded.done ? Effect.succeed(fixture) : Effect.dieMessage("the mixed namespace was not seeded"))
)

beforeAll(async () => {
  const exit = await Effect.runPromiseExit(seedMixedNamespace(fixture, run).pipe(Effect.provide(liveKube())))
  if (Exit.isFailure(exit)) throw new Error(`seeding ${fixture.namespace} failed:\n${Cause.pretty(exit.cause)}`)
  seeded.done = true
}, 400_000)

// Also after a partial seed: the names are known up front.
afterAll(() => Effect.runPromise(cleanupMixedNamespace(fixture).pipe(Effect.provide(liveKube()))), 60_000)

/** Runs the backup and reads back its tarball and revision. */
const backUp = (name: string, spec: Record<string, unknown>) =>
  Effect.gen(function*() {
    const backup = yield* runBackup(makeBackup(name, spec), deps)
    const status = backup.status ?? {}
    assert.strictEqual(status.phase, "Completed", `backup ${name}: ${JSON.stringify(status)}`)
    const revision = status.resourceVersion ?? ""
    assert.notStrictEqual(revision, "", "status.resourceVersion is recorded")
    const tarball = yield* readTarball(name)
    assert.strictEqual(tarball.paths[0], "metadata/version", "metadata/version comes first")
    assert.strictEqual(tarball.version, formatVersion)
    assert.strictEqual(status.progress?.itemsBackedUp, tarball.objects.size, "progress counts every stored object")
    return { backup, status, revision, tarball }
  })

/** Exactly these paths, each holding exactly the object the server lists at the revision. */
const assertHoldsExactly = (stored: ReadonlyMap<string, KubeObject>, expected: ReadonlyMap<string, KubeObject>) => {
  assert.deepStrictEqual([...stored.keys()].sort(), [...expected.keys()].sort(), "the tarball's entries")
  for (const [path, object] of expected) assert.deepStrictEqual(stored.get(path), object, path)
}

const objectsOf = (
  entries: ReadonlyMap<string, { readonly object: KubeObject }>,
  keep: (path: string, object: KubeObject) => boolean = () => true
) =>
  new Map(
    [...entries].filter(([path, { object }]) => keep(path, object)).map(([path, { object }]) => [path, object] as const)
  )

const groupResourceOf = (path: string) => path.split("/")[1] ?? ""

const hasLabels = (object: KubeObject, labels: Record<string, string>) =>
  Object.entries(labels).every(([key, value]) => object.metadata.labels?.[key] === value)

/** The namespace's Namespace, bound PV and CRD at the revision: the cluster-scoped items it relates to. */
const relatedAt = (revision: string) =>
  Effect.gen(function*() {
    return {
      namespace: yield* clusterObjectAt(gvr.namespaces, fixture.namespace, revision),
      volume: yield* clusterObjectAt(gvr.persistentVolumes, fixture.boundVolume, revision),
      crd: yield* clusterObjectAt(gvr.crds, fixture.crdName, revision)
    }
  })

describe("backup on a real cluster and MinIO", () => {
  it.live("a namespace of many kinds: exactly its objects at status.resourceVersion, its PV and CRD, and every file of the layout", () =>
    Effect.gen(function*() {
      yield* mixed
      const { backup, status, revision, tarball } = yield* backUp("mixed", {
        includedNamespaces: [fixture.namespace],
        ttl: "24h"
      })
      assert.strictEqual(status.consistency, "Exact")
      assert.strictEqual(status.errors, 0)

      const namespaced = yield* namespaceAt(fixture.namespace, revision)
      const kinds = new Set([...namespaced.keys()].map(groupResourceOf))
      for (
        const kind of [
          "deployments.apps",
          "replicasets.apps",
          "pods",
          "services",
          "configmaps",
          "secrets",
          "serviceaccounts",
          "roles.rbac.authorization.k8s.io",
          "rolebindings.rbac.authorization.k8s.io",
          "persistentvolumeclaims",
          `widgets.${fixture.group}`
        ]
      ) assert.isTrue(kinds.has(kind), `the namespace holds ${kind} at the revision`)
      const related = yield* relatedAt(revision)
      const expected = new Map([...objectsOf(namespaced), related.namespace, related.volume, related.crd])
      assertHoldsExactly(tarball.objects, expected)

      // What must stay out was there to be taken.
      const events = yield* listAt(gvr.events, revision, fixture.namespace)
      assert.isAbove(events.length, 0, "events exist in the namespace at the revision")
      const paths = [...tarball.objects.keys()]
      assert.isFalse(paths.some((path) => path.startsWith("resources/events")), "no events")
      assert.deepStrictEqual(
        paths.filter((path) => path.includes("/cluster/")).sort(),
        [related.namespace[0], related.volume[0], related.crd[0]].sort(),
        "no cluster-scoped objects but the Namespace, the bound PV and the CRD (no ClusterRole of a RoleBinding, no nodes, no spare PV)"
      )

      // The storage layout: every file, and nothing else, under the backup's folder.
      const keys = backupKeys("mixed")
      assert.deepStrictEqual(
        yield* storedKeys,
        [keys.tarball, keys.logs, keys.resourceList, keys.results, keys.metadata].sort()
      )

      const resourceList = JSON.parse(yield* readText(keys.resourceList, true)) as Record<string, Array<string>>
      const listed = new Map<string, Array<string>>()
      for (const [path, object] of expected) {
        const key = `${object.apiVersion}/${object.kind}`
        const entry = path.includes("/cluster/")
          ? object.metadata.name ?? ""
          : `${object.metadata.namespace}/${object.metadata.name}`
        listed.set(key, [...(listed.get(key) ?? []), entry])
      }
      const sorted = (list: Iterable<[string, Array<string>]>) =>
        Object.fromEntries([...list].map(([key, names]) => [key, [...names].sort()]))
      assert.deepStrictEqual(
        sorted(Object.entries(resourceList)),
        sorted(listed),
        "the resource list names exactly the tarball's objects"
      )

      const results = JSON.parse(yield* readText(keys.results, true)) as Record<string, unknown>
      assert.deepStrictEqual(Object.keys(results).sort(), ["errors", "warnings"])
      assert.deepStrictEqual(results["errors"], {})

      const logLines = (yield* readText(keys.logs, true)).trimEnd().split("\n").map((line) =>
        JSON.parse(line) as Record<string, unknown>
      )
      assert.isAbove(logLines.length, 1)
      for (const line of logLines) {
        assert.strictEqual(line["backup"], "mixed")
        assert.isString(line["time"])
        assert.include(["info", "warning"], line["level"])
      }
      assert.isTrue(
        logLines.some((line) => String(line["msg"]).includes(`revision ${revision}`)),
        "the log names the revision"
      )

      const committed = Schema.decodeUnknownSync(Backup)(JSON.parse(yield* readText(keys.metadata, false)))
      assert.strictEqual(committed.status?.phase, "Completed")
      assert.deepStrictEqual(committed, backup, "ark-backup.json is the final Backup")
    }).pipe(Effect.provide(live("mixed"))))

  describe("filters", () => {
    it.live("labelSelector: only matching objects, with the Namespace, PV and CRD they pull in", () =>
      Effect.gen(function*() {
        yield* mixed
        const { revision, tarball } = yield* backUp("selected", {
          includedNamespaces: [fixture.namespace],
          labelSelector: { matchLabels: pickLabel }
        })
        const matching = objectsOf(
          yield* namespaceAt(fixture.namespace, revision),
          (_, object) => hasLabels(object, pickLabel)
        )
        assert.deepStrictEqual(
          [...matching.values()].map((object) => `${object.kind}/${object.metadata.name}`).sort(),
          ["ConfigMap/settings", "PersistentVolumeClaim/data", "Secret/creds", "Widget/w-1"]
        )
        const related = yield* relatedAt(revision)
        assertHoldsExactly(tarball.objects, new Map([...matching, related.namespace, related.volume, related.crd]))
      }).pipe(Effect.provide(live("selected"))))

    it.live("excludedResources: no secrets, everything else", () =>
      Effect.gen(function*() {
        yield* mixed
        const { revision, tarball } = yield* backUp("nosecrets", {
          includedNamespaces: [fixture.namespace],
          excludedResources: ["secrets"]
        })
        const namespaced = yield* namespaceAt(fixture.namespace, revision)
        assert.isTrue(
          [...namespaced.keys()].some((path) => groupResourceOf(path) === "secrets"),
          "secrets exist at the revision"
        )
        const related = yield* relatedAt(revision)
        assertHoldsExactly(
          tarball.objects,
          new Map([
            ...objectsOf(namespaced, (path) => groupResourceOf(path) !== "secrets"),
            related.namespace,
            related.volume,
            related.crd
          ])
        )
      }).pipe(Effect.provide(live("nosecrets"))))

    it.live("includedResources by short, plural and group-qualified names: those resources only", () =>
      Effect.gen(function*() {
        yield* mixed
        const widgets = `widgets.${fixture.group}`
        const { revision, tarball } = yield* backUp("some", {
          includedNamespaces: [fixture.namespace],
          includedResources: ["deploy", "configmaps", widgets]
        })
        const wanted = new Set(["deployments.apps", "configmaps", widgets])
        const expected = objectsOf(
          yield* namespaceAt(fixture.namespace, revision),
          (path) => wanted.has(groupResourceOf(path))
        )
        assert.deepStrictEqual(new Set([...expected.keys()].map(groupResourceOf)), wanted)
        assertHoldsExactly(tarball.objects, expected)
      }).pipe(Effect.provide(live("some"))))

    it.live("includeClusterResources false: the namespace without its PV and CRD", () =>
      Effect.gen(function*() {
        yield* mixed
        const { revision, tarball } = yield* backUp("nocluster", {
          includedNamespaces: [fixture.namespace],
          includeClusterResources: false
        })
        const related = yield* relatedAt(revision)
        assertHoldsExactly(
          tarball.objects,
          new Map([...objectsOf(yield* namespaceAt(fixture.namespace, revision)), related.namespace])
        )
      }).pipe(Effect.provide(live("nocluster"))))

    it.live("includeClusterResources true: every cluster-scoped object too, ClusterRoles and nodes included", () =>
      Effect.gen(function*() {
        yield* mixed
        const { revision, status, tarball } = yield* backUp("cluster", {
          includedNamespaces: [fixture.namespace],
          includeClusterResources: true
        })
        const expected = new Map(objectsOf(yield* namespaceAt(fixture.namespace, revision)))
        const clusterScoped = (yield* backupableResources).filter((resource) => !resource.namespaced)
        for (const resource of clusterScoped) {
          for (const object of yield* listAt(resource, revision)) {
            // Namespaces follow the namespace filter whatever includeClusterResources says.
            if (resource.resource === "namespaces" && object.metadata.name !== fixture.namespace) continue
            expected.set(entryOf(resource, object), object)
          }
        }
        assertHoldsExactly(tarball.objects, expected)
        for (
          const path of [
            "resources/clusterroles.rbac.authorization.k8s.io/cluster/view.json",
            "resources/nodes/cluster/kwok-node-1.json",
            `resources/persistentvolumes/cluster/${fixture.spareVolume}.json`,
            `resources/customresourcedefinitions.apiextensions.k8s.io/cluster/${fixture.crdName}.json`
          ]
        ) assert.isTrue(tarball.objects.has(path), path)
        // componentstatuses (live probes, not stored) are never backed up, so the whole cut is Exact.
        assert.isFalse([...tarball.objects.keys()].some((path) => path.startsWith("resources/componentstatuses/")))
        assert.strictEqual(status.consistency, "Exact")
        assert.strictEqual(status.warnings, 0)
      }).pipe(Effect.provide(live("cluster"))))
  })

  describe("FailedValidation", () => {
    /** The backup fails validation with exactly one problem mentioning `expected`, and stores nothing. */
    const failsValidation = (backup: Backup, expected: string) =>
      Effect.gen(function*() {
        const result = yield* runBackup(backup, deps)
        assert.strictEqual(result.status?.phase, "FailedValidation")
        const problems = result.status?.validationErrors ?? []
        assert.strictEqual(problems.length, 1, JSON.stringify(problems))
        assert.include(problems[0] ?? "", expected)
        assert.isUndefined(result.status?.resourceVersion)
        assert.deepStrictEqual(yield* storedKeys, [], "nothing uploaded")
      })

    it.live("an unknown resource", () =>
      Effect.gen(function*() {
        yield* mixed
        yield* failsValidation(
          makeBackup("unknown", { includedNamespaces: [fixture.namespace], includedResources: ["nosuchthings"] }),
          "nosuchthings"
        )
      }).pipe(Effect.provide(live("unknown"))))

    it.live("a bad TTL", () =>
      Effect.gen(function*() {
        yield* mixed
        const raw = {
          apiVersion: "ark.heptio.com/v1",
          kind: "Backup",
          metadata: { name: "badttl", namespace: "heptio-ark" },
          spec: { includedNamespaces: [fixture.namespace], ttl: "1d" }
        }
        // The controller's decode reports it and validates the rest...
        const decoded = decodeBackup(raw)
        assert.isTrue(
          decoded.problems.some((problem) => problem.includes("ttl") && problem.includes("1d")),
          JSON.stringify(decoded.problems)
        )
        // ...and runBackup's own validation catches a Backup that bypassed the schema.
        const valid = makeBackup("badttl", { includedNamespaces: [fixture.namespace], ttl: "24h" })
        yield* failsValidation({ ...valid, spec: { ...valid.spec, ttl: "1d" } }, "ttl")
      }).pipe(Effect.provide(live("badttl"))))

    it.live("labelSelector and orLabelSelectors both set", () =>
      Effect.gen(function*() {
        yield* mixed
        yield* failsValidation(
          makeBackup("twoselectors", {
            includedNamespaces: [fixture.namespace],
            labelSelector: { matchLabels: pickLabel },
            orLabelSelectors: [{ matchLabels: { app: "web" } }]
          }),
          "orLabelSelectors"
        )
      }).pipe(Effect.provide(live("twoselectors"))))
  })

  it.live("atomicity: under a concurrent writer, a gap-free prefix of the sequence, exactly as listed at status.resourceVersion", () =>
    Effect.gen(function*() {
      const kube = yield* KubeClient
      const namespace = `ark-it-atomic-${run}`
      yield* Effect.acquireRelease(
        kube.create(gvr.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }),
        () => kube.delete(gvr.namespaces, namespace).pipe(Effect.ignore)
      )
      const created = yield* Ref.make(0)
      const writer = yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
        const next = yield* Ref.get(created)
        yield* kube.create(gvr.configMaps, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `seq-${next}`, namespace },
          data: { seq: String(next) }
        })
        yield* Ref.set(created, next + 1)
      })))
      yield* waitFor(
        "the writer to create 50 ConfigMaps",
        Ref.get(created).pipe(Effect.map((count) => (count >= 50 ? Option.some(count) : Option.none())))
      )

      const before = yield* Ref.get(created)
      // Small pages: the ConfigMaps span many list requests while the writer goes on.
      const backup = yield* runBackup(makeBackup("atomic", { includedNamespaces: [namespace] }), {
        ...deps,
        pageSize: 7
      })
      const after = yield* Ref.get(created)
      yield* Fiber.interrupt(writer)
      const total = yield* Ref.get(created)

      const status = backup.status ?? {}
      assert.strictEqual(status.phase, "Completed", JSON.stringify(status))
      assert.strictEqual(status.consistency, "Exact")
      const revision = status.resourceVersion ?? ""
      const sequence = (names: ReadonlyArray<string>) =>
        names.filter((name) => name.startsWith("seq-")).map((name) => Number(name.slice("seq-".length))).sort((a, b) =>
          a - b
        )

      const { objects } = yield* readTarball("atomic")
      const stored = sequence(
        [...objects.values()].filter((object) => object.kind === "ConfigMap").map((object) =>
          object.metadata.name ?? ""
        )
      )
      const k = stored.length - 1
      assert.deepStrictEqual(stored, Array.from({ length: k + 1 }, (_, i) => i), "a gap-free prefix seq-0..seq-k")
      const listed = sequence(
        (yield* listAt(gvr.configMaps, revision, namespace)).map((object) => object.metadata.name ?? "")
      )
      assert.deepStrictEqual(stored, listed, "exactly what the server lists at status.resourceVersion")
      assert.isAtLeast(k + 1, before, "everything written before the backup started is in it")
      assert.isAtMost(k, after, "nothing written after the backup ended is in it")
      assert.isAbove(total, k + 1, "the writer went on past the cut, and those writes are not in the backup")

      // The rest of the namespace is exact too.
      const namespaceObject = yield* clusterObjectAt(gvr.namespaces, namespace, revision)
      assertHoldsExactly(objects, new Map([...objectsOf(yield* namespaceAt(namespace, revision)), namespaceObject]))
    }).pipe(Effect.scoped, Effect.provide(live("atomic"))))
})
