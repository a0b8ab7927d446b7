// The objects the benchmarks read and write: ConfigMaps and Secrets of about 1 KiB, plus a 1% share
// of Deployments with their ReplicaSets and pods; how to seed them into a namespace, and the raw
// paginated list that is the baseline for a backup.
import { Effect, Option, Stream } from "effect"

import type { GroupVersionResource, KubeObject } from "../services/KubeClient.ts"
import { KubeClient } from "../services/KubeClient.ts"
import { waitFor } from "../test/support/wait.ts"

export const namespaces: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
const configMaps: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }
const secrets: GroupVersionResource = { group: "", version: "v1", resource: "secrets" }
const deployments: GroupVersionResource = { group: "apps", version: "v1", resource: "deployments" }
const pods: GroupVersionResource = { group: "", version: "v1", resource: "pods" }

export const pageSize = 500
const kib = "x".repeat(1000)
const replicas = 2

const configMap = (namespace: string, index: number): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: `cm-${index}`, namespace, labels: { bench: "ark" } },
  data: { payload: kib }
})

const secret = (namespace: string, index: number): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: `secret-${index}`, namespace, labels: { bench: "ark" } },
  data: { payload: Buffer.from(kib.slice(0, 750)).toString("base64") }
})

const deployment = (namespace: string, index: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: `web-${index}`, namespace },
  spec: {
    replicas,
    selector: { matchLabels: { app: `web-${index}` } },
    template: {
      metadata: { labels: { app: `web-${index}` } },
      spec: { containers: [{ name: "web", image: "nginx:1.27" }] }
    }
  }
})

export const countOf = (gvr: GroupVersionResource, namespace: string) =>
  Effect.flatMap(
    KubeClient,
    (kube) =>
      kube.listPages(gvr, { namespace, limit: pageSize }).pipe(
        Stream.runFold(0, (count, page) => count + page.items.length)
      )
  )

/** How `size` objects split: each Deployment brings a ReplicaSet and `replicas` pods; the rest are plain. */
export const seedPlan = (size: number) => {
  const deploymentCount = Math.max(1, Math.round(size / 100 / (2 + replicas)))
  return { deploymentCount, pods: deploymentCount * replicas, plain: size - deploymentCount * (2 + replicas) }
}

/**
 * The objects a client creates for `size` (the Deployments' ReplicaSets and pods come from the
 * controllers): the seed of a namespace, and what a plain client restoring it would create.
 */
export const seedObjects = (namespace: string, size: number) => {
  const { deploymentCount, plain } = seedPlan(size)
  return [
    ...Array.from({ length: deploymentCount }, (_, index) => [deployments, deployment(namespace, index)] as const),
    ...Array.from({ length: Math.ceil(plain / 2) }, (_, index) => [configMaps, configMap(namespace, index)] as const),
    ...Array.from({ length: Math.floor(plain / 2) }, (_, index) => [secrets, secret(namespace, index)] as const)
  ]
}

/**
 * Fills `namespace` with `size` objects and waits for the Deployments' pods. Objects already there
 * are kept, and a namespace whose ConfigMaps are all there is taken as seeded by an earlier run.
 */
export const seed = (namespace: string, size: number) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { plain, pods: podCount } = seedPlan(size)
    const present = yield* countOf(configMaps, namespace).pipe(Effect.orElseSucceed(() => 0))
    if (present >= Math.ceil(plain / 2)) return namespace
    yield* kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }).pipe(
      Effect.catchTag("KubeAlreadyExists", () => Effect.void)
    )
    const objects = seedObjects(namespace, size)
    const start = performance.now()
    yield* Effect.forEach(
      objects,
      ([gvr, object]) => kube.create(gvr, object).pipe(Effect.catchTag("KubeAlreadyExists", () => Effect.void)),
      { concurrency: 64, discard: true }
    )
    console.error(
      `seeded ${objects.length} objects into ${namespace} in ${((performance.now() - start) / 1000).toFixed(1)}s`
    )
    yield* waitFor(
      `${podCount} pods in ${namespace}`,
      countOf(pods, namespace).pipe(
        Effect.map((count) => (count >= podCount ? Option.some(count) : Option.none()))
      ),
      "5 minutes"
    )
    return namespace
  })

/** Every object of the namespace's listable kinds, paginated as Ark reads them, and nothing else. */
export const rawList = (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const { resources } = yield* kube.discover
    const kinds = resources.filter(
      (resource) => resource.namespaced && resource.verbs.includes("list") && resource.resource !== "events"
    )
    let items = 0
    for (const gvr of kinds) {
      items += yield* countOf(gvr, namespace)
    }
    return items
  })
