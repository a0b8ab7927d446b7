// examples/registry-rewrite.ts, installed from the npm pack tarball into a fresh application and
// run there as the server on the real cluster and MinIO: a backup of two Deployments, a restore
// into a new namespace, and the restored images come from the mirror its RestoreItemAction names,
// while the originals keep theirs.
import { randomUUID } from "node:crypto"
import { join } from "node:path"

import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion } from "../../src/api/index.ts"
import type { PackedApp } from "../support/packedApp.ts"
import { nodeDeadline, packedApp, packedAppDeadline, root } from "../support/packedApp.ts"
import { gvr } from "./backupFixtures.ts"
import { liveKube } from "./live.ts"
import {
  arkGvr,
  finished,
  kubeconfigOf,
  nodeServer,
  serverNamespace,
  sharedMinio,
  statusOf,
  waitForObject
} from "./serverProcess.ts"

const run = randomUUID().slice(0, 8)
const serverNs = `ark-example-${run}`
const app = `shop-${run}`
const copy = `shop-copy-${run}`

const deployment = (name: string, image: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: app },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image }] } }
  }
})

const imageOf = (object: KubeObject) =>
  (object["spec"] as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]
    ?.image

describe("examples/registry-rewrite.ts", () => {
  it.live(
    "runs as the server from the npm pack tarball, and its restore action rewrites the restored images",
    () =>
      Effect.gen(function*() {
        const kube = yield* KubeClient
        const installed: PackedApp = yield* Effect.acquireRelease(
          Effect.promise(() => packedApp([join(root, "examples", "registry-rewrite.ts")])),
          (packed) => Effect.promise(() => packed.remove())
        )
        yield* serverNamespace(serverNs, yield* sharedMinio(`example-${run}`))
        yield* Effect.acquireRelease(
          kube.create(gvr.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: app } }),
          () => Effect.forEach([app, copy], (name) => kube.delete(gvr.namespaces, name).pipe(Effect.ignore))
        )
        yield* kube.create(gvr.deployments, deployment("web", "nginx:1.27"))
        yield* kube.create(gvr.deployments, deployment("cache", "docker.io/library/redis:7"))
        yield* kube.create(gvr.deployments, deployment("own", "quay.io/shop/own:2"))

        const server = yield* nodeServer(
          [installed.path("registry-rewrite.ts"), serverNs, "mirror.example.com"],
          { ...process.env, KUBECONFIG: yield* kubeconfigOf(1) }
        )
        yield* kube.create(arkGvr.backups, {
          apiVersion,
          kind: "Backup",
          metadata: { name: "shop", namespace: serverNs },
          spec: { includedNamespaces: [app], snapshotVolumes: false }
        })
        const backup = yield* waitForObject(arkGvr.backups, "shop", serverNs, "finished", finished).pipe(
          Effect.tapError(() => Effect.sync(() => console.error(server.output())))
        )
        assert.strictEqual(statusOf(backup)["phase"], "Completed", server.output())
        yield* kube.create(arkGvr.restores, {
          apiVersion,
          kind: "Restore",
          metadata: { name: "shop-copy", namespace: serverNs },
          spec: { backupName: "shop", namespaceMapping: { [app]: copy } }
        })
        const restore = yield* waitForObject(arkGvr.restores, "shop-copy", serverNs, "finished", finished)
        assert.strictEqual(statusOf(restore)["phase"], "Completed", JSON.stringify(statusOf(restore)))

        const restored = Object.fromEntries(
          yield* Effect.forEach(["web", "cache", "own"], (name) =>
            kube.get(gvr.deployments, name, copy).pipe(Effect.map((object) => [name, imageOf(object)] as const)))
        )
        assert.deepStrictEqual(restored, {
          web: "mirror.example.com/library/nginx:1.27",
          cache: "mirror.example.com/library/redis:7",
          own: "quay.io/shop/own:2"
        })
        const original = yield* kube.get(gvr.deployments, "web", app)
        assert.strictEqual(imageOf(original), "nginx:1.27")
      }).pipe(Effect.scoped, Effect.provide(liveKube())),
    packedAppDeadline + 4 * nodeDeadline
  )
})
