// install's kustomize subset: the namespace and image transformers behave as kustomize's, and a
// kustomization beyond what install understands is refused rather than half-rendered.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { renderKustomization, setImage, setNamespace } from "../../src/install/kustomize.ts"

const platform = Layer.merge(NodeFileSystem.layer, NodePath.layer)

/** A directory holding `files` (path → content). */
const tree = (files: Record<string, string>) => {
  const root = mkdtempSync(join(tmpdir(), "ark-kustomize-"))
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true })
    writeFileSync(join(root, path), content)
  }
  return root
}

const failure = (root: string) => renderKustomization(root).pipe(Effect.flip, Effect.provide(platform))

const binding = (subjects: ReadonlyArray<Record<string, string>>): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRoleBinding",
  metadata: { name: "x" },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "y" },
  subjects
})

describe("setNamespace (kustomize's namespace transformer)", () => {
  it("moves namespaced objects, renames Namespaces, leaves cluster-scoped ones, and moves subjects of rendered ServiceAccounts", () => {
    const objects: ReadonlyArray<KubeObject> = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "heptio-ark" } },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "ark", namespace: "heptio-ark" } },
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "y" }, rules: [] },
      binding([
        { kind: "ServiceAccount", name: "ark", namespace: "heptio-ark" },
        { kind: "ServiceAccount", name: "other", namespace: "heptio-ark" },
        { kind: "User", name: "ark", namespace: "heptio-ark" }
      ]),
      { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }
    ]
    const [namespace, serviceAccount, clusterRole, moved, widget] = setNamespace(objects, "backups")
    assert.strictEqual(namespace?.metadata.name, "backups")
    assert.isUndefined(namespace?.metadata.namespace)
    assert.strictEqual(serviceAccount?.metadata.namespace, "backups")
    assert.deepStrictEqual(clusterRole, objects[2])
    assert.isUndefined(moved?.metadata.namespace)
    assert.deepStrictEqual(moved?.["subjects"], [
      { kind: "ServiceAccount", name: "ark", namespace: "backups" },
      { kind: "ServiceAccount", name: "other", namespace: "heptio-ark" },
      { kind: "User", name: "ark", namespace: "heptio-ark" }
    ])
    // An unknown kind is taken to be namespaced, as kustomize does.
    assert.strictEqual(widget?.metadata.namespace, "backups")
  })
})

describe("setImage (kustomize's images transformer)", () => {
  it("replaces every container running the image, whatever its tag, and nothing else", () => {
    const deployment: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "ark" },
      spec: {
        template: {
          spec: {
            initContainers: [{ name: "init", image: "ark@sha256:abc" }],
            containers: [{ name: "ark", image: "ark:0.1.0" }, { name: "sidecar", image: "registry:5000/ark-sidecar:1" }]
          }
        }
      }
    }
    const [changed] = setImage([deployment], "ark", "registry:5000/ark:2.0.0")
    assert.deepStrictEqual((changed?.["spec"] as any).template.spec, {
      initContainers: [{ name: "init", image: "registry:5000/ark:2.0.0" }],
      containers: [{ name: "ark", image: "registry:5000/ark:2.0.0" }, {
        name: "sidecar",
        image: "registry:5000/ark-sidecar:1"
      }]
    })
  })
})

describe("renderKustomization", () => {
  const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: a\ndata:\n  k: v\n"

  it.effect("follows resources into directories, applies JSON 6902 patches, then the namespace", () =>
    Effect.gen(function*() {
      const root = tree({
        "kustomization.yaml":
          "namespace: b\nresources:\n  - base\npatches:\n  - path: p.yaml\n    target:\n      kind: ConfigMap\n      name: c\n",
        "p.yaml": "- op: add\n  path: /data/extra\n  value: \"yes\"\n",
        "base/kustomization.yaml": "resources:\n  - c.yaml\n",
        "base/c.yaml": `${configMap}---\n`
      })
      const objects = yield* renderKustomization(root).pipe(Effect.provide(platform))
      assert.deepStrictEqual(objects, [
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "b" }, data: { k: "v", extra: "yes" } }
      ])
    }))

  it.effect("refuses what it does not understand, naming the file", () =>
    Effect.gen(function*() {
      const generator = yield* failure(
        tree({ "kustomization.yaml": "resources: []\nconfigMapGenerator:\n  - name: x\n" })
      )
      assert.include(generator.message, "configMapGenerator")
      assert.include(generator.path, "kustomization.yaml")

      const strategicMerge = yield* failure(
        tree({ "kustomization.yaml": "resources: []\npatches:\n  - path: p.yaml\n" })
      )
      assert.include(strategicMerge.message, "JSON 6902")

      const unmatched = yield* failure(tree({
        "kustomization.yaml":
          "resources:\n  - c.yaml\npatches:\n  - path: p.yaml\n    target: {kind: ConfigMap, name: other}\n",
        "c.yaml": configMap,
        "p.yaml": "- op: remove\n  path: /data\n"
      }))
      assert.include(unmatched.message, "matches no ConfigMap other")

      const broken = yield* failure(
        tree({ "kustomization.yaml": "resources:\n  - c.yaml\n", "c.yaml": "kind: [unclosed\n" })
      )
      assert.include(broken.message, "not valid YAML")

      const missing = yield* failure(tree({ "kustomization.yaml": "resources:\n  - nowhere.yaml\n" }))
      assert.include(missing.message, "nowhere.yaml")
    }))
})
