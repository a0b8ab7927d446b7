// A fake cluster with Ark's CRDs, a server namespace and a storage location, for controller tests.
import { Effect, Layer, Option } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryProvider from "../../layers/objectstore/MemoryProvider.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion, group, kindList, version } from "../../src/api/index.ts"
import { customResourceDefinition } from "../../src/api/manifests/crd.ts"
import { waitFor } from "../support/wait.ts"

export const serverNamespace = "heptio-ark"

export const gvr = (plural: string): GroupVersionResource => ({ group, version, resource: plural })
export const backups = gvr("backups")
export const locations = gvr("backupstoragelocations")
const crds: GroupVersionResource = {
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions"
}

/** A fresh fake API server and fake buckets per test. */
export const memoryLayer = Layer.merge(MemoryKube.layer, MemoryProvider.layer)

/** Ark's CRDs and the server namespace, before any controller lists them. */
export const installArk = Effect.gen(function*() {
  const kube = yield* KubeClient
  for (const info of kindList) yield* kube.create(crds, customResourceDefinition(info) as unknown as KubeObject)
  yield* kube.create({ group: "", version: "v1", resource: "namespaces" }, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: serverNamespace }
  })
})

export const location = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion,
  kind: "BackupStorageLocation",
  metadata: { name, namespace: serverNamespace },
  spec: { provider: "aws", objectStorage: { bucket: "ark" }, ...spec }
})

export const backup = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion,
  kind: "Backup",
  metadata: { name, namespace: serverNamespace },
  spec
})

export const statusOf = (object: KubeObject): Record<string, unknown> =>
  (object["status"] as Record<string, unknown> | undefined) ?? {}

/** Waits until the named object's status satisfies `done`, then returns the object. */
export const waitForStatus = (
  resource: GroupVersionResource,
  name: string,
  what: string,
  done: (status: Record<string, unknown>) => boolean
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    return yield* waitFor(
      `${resource.resource}/${name} ${what}`,
      kube.get(resource, name, serverNamespace).pipe(
        Effect.map((object) => Option.some(object).pipe(Option.filter((o) => done(statusOf(o)))))
      ),
      // In memory, but the controllers run on real fibers and a loaded CI machine slows them down.
      "60 seconds"
    )
  })

export const waitForPhase = (resource: GroupVersionResource, name: string, ...phases: ReadonlyArray<string>) =>
  waitForStatus(resource, name, `in phase ${phases.join("|")}`, (status) => phases.includes(String(status["phase"])))

/** A few objects for a backup to take. */
export const seedApp = (namespace: string, count = 3) =>
  Effect.gen(function*() {
    const control = yield* MemoryKube.MemoryKube
    yield* control.seed(
      Array.from({ length: count }, (_, i): KubeObject => ({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `config-${i}`, namespace, labels: { app: "demo" } },
        data: { index: String(i) }
      }))
    )
  })
