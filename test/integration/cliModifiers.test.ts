// Velero users' migration tools through the spawned CLI against the real kube-apiserver, MinIO and
// `ark server`: --ordered-resources (read back from the tarball's entry order) and
// --resource-modifier-configmap (a storage class changed and an image registry rewritten on the
// restored objects; a bad rule refused with its name, by the CLI and by the server).
import { randomUUID } from "node:crypto"

import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"

import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion } from "../../src/api/index.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { readArchive } from "../../src/archive/reader.ts"
import { arkRun } from "../support/arkProcess.ts"
import { gvr } from "./backupFixtures.ts"
import { ensureNamespace } from "./crdsApply.ts"
import { liveKube } from "./live.ts"
import {
  arkGvr,
  arkServer,
  finished,
  kubeconfigOf,
  serverNamespace,
  sharedMinio,
  statusOf,
  storeAt,
  waitForObject
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)
const arkNamespace = `ark-mod-it-${run}`
const source = `mod-src-${run}`
const target = `mod-dst-${run}`

const migrationRules = `version: v1
resourceModifierRules:
- conditions:
    groupResource: persistentvolumeclaims
    namespaces: [${source}]
  patches:
  - operation: test
    path: /spec/storageClassName
    value: standard
  - operation: replace
    path: /spec/storageClassName
    value: premium
- conditions:
    groupResource: deployments.apps
    resourceNameRegex: "^web$"
  strategicPatches:
  - patchData: |
      {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "registry.example.com/library/nginx:1.27"}]}}}}
`

const badRules = `version: v1
resourceModifierRules:
- conditions: {groupResource: configmaps}
  mergePatches: [{patchData: '{"data": {"x": "y"}}'}]
- conditions: {groupResource: pods}
  patches: [{operation: replace, path: /spec/nodeName}]
  mergePatches: [{patchData: '{}'}]
`

const seed = Effect.gen(function*() {
  const kube = yield* KubeClient
  yield* ensureNamespace(source)
  for (const name of ["a", "b", "c", "d"]) {
    yield* kube.create(gvr.configMaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: source },
      data: { name }
    })
  }
  yield* kube.create(gvr.persistentVolumeClaims, {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "data", namespace: source },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName: "standard", resources: { requests: { storage: "1Gi" } } }
  })
  yield* kube.create(gvr.deployments, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: source },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [{ name: "web", image: "docker.io/library/nginx:1.27" }, { name: "log", image: "busybox" }]
        }
      }
    }
  })
  for (const [name, rules] of [["migration", migrationRules], ["bad-rules", badRules]] as const) {
    yield* kube.create(gvr.configMaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: arkNamespace },
      data: { "rules.yaml": rules }
    })
  }
})

describe("--ordered-resources and --resource-modifier-configmap on a real cluster", () => {
  it.live("orders the tarball, patches restored objects, refuses a bad rule by name", () =>
    Effect.gen(function*() {
      const kubeconfig = yield* kubeconfigOf(1)
      const s3 = yield* sharedMinio(`ark-it-modifiers-${run}`)
      const kube = yield* KubeClient
      yield* serverNamespace(arkNamespace, s3)
      yield* seed
      const server = yield* arkServer(kubeconfig, arkNamespace)
      const ark = (...args: ReadonlyArray<string>) =>
        arkRun(...args, "--namespace", arkNamespace, "--kubeconfig", kubeconfig)

      const badOrder = yield* ark("backup", "create", "bad-order", "--ordered-resources", "configmaps:c")
      assert.notStrictEqual(badOrder.status, 0)
      assert.include(
        badOrder.stderr,
        "error: invalid --ordered-resources \"configmaps:c\": \"configmaps:c\" is not resource=names"
      )

      const backedUp = yield* ark(
        "backup",
        "create",
        "app",
        "--include-namespaces",
        source,
        "--ordered-resources",
        `configmaps=${source}/c,${source}/a;persistentvolumeclaims=${source}/data`,
        "--wait"
      )
      assert.strictEqual(backedUp.status, 0, backedUp.stdout + backedUp.stderr + server.output())
      const store = yield* storeAt(s3)
      const entries = yield* Stream.runCollect(readArchive(store.get(backupKeys("app").tarball)))
      const configMapEntries = Chunk.toReadonlyArray(entries)
        .map((entry) => entry.path)
        .filter((path) => path.startsWith("resources/configmaps/"))
      assert.deepStrictEqual(configMapEntries.slice(0, 2), [
        `resources/configmaps/namespaces/${source}/c.json`,
        `resources/configmaps/namespaces/${source}/a.json`
      ])
      assert.sameMembers(configMapEntries.slice(2), [
        `resources/configmaps/namespaces/${source}/b.json`,
        `resources/configmaps/namespaces/${source}/d.json`,
        `resources/configmaps/namespaces/${source}/kube-root-ca.crt.json`
      ])

      const refused = yield* ark(
        "restore",
        "create",
        "refused",
        "--from-backup",
        "app",
        "--resource-modifier-configmap",
        "bad-rules"
      )
      assert.notStrictEqual(refused.status, 0)
      assert.include(
        refused.stderr,
        `error: invalid --resource-modifier-configmap: resourceModifier: ConfigMap "bad-rules" in namespace ${arkNamespace}: ` +
          "resourceModifierRules[1]: only one of patches, mergePatches, strategicPatches can be given, not patches and mergePatches"
      )
      assert.include(refused.stderr, "nothing was created")
      // The server refuses the same rule in a Restore made without the CLI.
      yield* kube.create(arkGvr.restores, {
        apiVersion,
        kind: "Restore",
        metadata: { name: "by-hand", namespace: arkNamespace },
        spec: { backupName: "app", resourceModifier: { kind: "ConfigMap", name: "bad-rules" } }
      })
      const byHand = yield* waitForObject(arkGvr.restores, "by-hand", arkNamespace, "finished", finished)
      assert.strictEqual(statusOf(byHand)["phase"], "FailedValidation")
      assert.include(String(statusOf(byHand)["validationErrors"]), "resourceModifierRules[1]: only one of patches")

      const restoreFlags = [
        "--from-backup",
        "app",
        "--namespace-mappings",
        `${source}:${target}`,
        "--resource-modifier-configmap",
        "migration"
      ]
      const dry = yield* ark("restore", "create", "migrated", ...restoreFlags, "--dry-run")
      assert.strictEqual(dry.status, 0, dry.stderr)
      assert.include(dry.stdout, "changed by resource modifiers:")
      assert.include(dry.stdout, "spec.storageClassName: \"standard\" → \"premium\"")
      assert.include(
        dry.stdout,
        "spec.template.spec.containers[0].image: \"docker.io/library/nginx:1.27\" → \"registry.example.com/library/nginx:1.27\""
      )

      const restored = yield* ark("restore", "create", "migrated", ...restoreFlags, "--wait")
      assert.strictEqual(restored.status, 0, restored.stdout + restored.stderr + server.output())
      const claim = yield* kube.get(gvr.persistentVolumeClaims, "data", target)
      assert.strictEqual((claim["spec"] as { storageClassName?: string }).storageClassName, "premium")
      const web = yield* kube.get(gvr.deployments, "web", target)
      const containers = (web["spec"] as { template: { spec: { containers: Array<{ name: string; image: string }> } } })
        .template.spec.containers
      assert.deepStrictEqual(containers.map(({ image, name }) => [name, image]), [
        ["web", "registry.example.com/library/nginx:1.27"],
        ["log", "busybox"]
      ])
      assert.deepStrictEqual((yield* kube.get(gvr.configMaps, "a", target))["data"], { name: "a" })
      const described = yield* ark("restore", "describe", "migrated")
      assert.include(described.stdout, "Resource modifiers:        ConfigMap/migration")
      const backupDescribed = yield* ark("backup", "describe", "app")
      assert.include(backupDescribed.stdout, `  configmaps: ${source}/c,${source}/a`)
    }).pipe(
      Effect.ensuring(
        KubeClient.pipe(
          Effect.flatMap((kube) =>
            Effect.forEach(
              [target, source],
              (namespace) => kube.delete(gvr.namespaces, namespace).pipe(Effect.ignore),
              { discard: true }
            )
          )
        )
      ),
      Effect.scoped,
      Effect.provide(liveKube())
    ), 600_000)
})
