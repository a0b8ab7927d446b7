// `npm run bench -- backup [--sizes 10000,100000]`: seeds each size of namespace into a real
// control plane (ConfigMaps and Secrets of about 1 KiB, plus Deployments with their pods), then
// has one fresh process measure a raw paginated list and Ark's backup of the same objects.
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

import { Config, Effect, Layer, Option, Stream } from "effect"

import * as KubeLive from "../layers/kube/Live.ts"
import type { GroupVersionResource, KubeObject } from "../services/KubeClient.ts"
import { KubeClient } from "../services/KubeClient.ts"
import { waitFor } from "../test/support/wait.ts"
import { untilQuiet } from "./quiet.ts"

const namespaces: GroupVersionResource = { group: "", version: "v1", resource: "namespaces" }
const configMaps: GroupVersionResource = { group: "", version: "v1", resource: "configmaps" }
const secrets: GroupVersionResource = { group: "", version: "v1", resource: "secrets" }
const deployments: GroupVersionResource = { group: "apps", version: "v1", resource: "deployments" }
const pods: GroupVersionResource = { group: "", version: "v1", resource: "pods" }

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

const countOf = (gvr: GroupVersionResource, namespace: string) =>
  Effect.flatMap(
    KubeClient,
    (kube) =>
      kube.listPages(gvr, { namespace, limit: 500 }).pipe(Stream.runFold(0, (count, page) => count + page.items.length))
  )

/** Fills `bench-<size>` with `size` objects: 1% of them Deployments with their ReplicaSets and pods. */
const seed = (size: number) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const namespace = `bench-${size}`
    const deploymentCount = Math.max(1, Math.round(size / 100 / (2 + replicas)))
    const plain = size - deploymentCount * (2 + replicas)
    const present = yield* countOf(configMaps, namespace).pipe(Effect.orElseSucceed(() => 0))
    if (present >= Math.ceil(plain / 2)) return namespace // seeded by an earlier run on this environment
    yield* kube.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }).pipe(
      Effect.catchTag("KubeAlreadyExists", () => Effect.void)
    )
    const objects = [
      ...Array.from({ length: deploymentCount }, (_, index) => [deployments, deployment(namespace, index)] as const),
      ...Array.from({ length: Math.ceil(plain / 2) }, (_, index) => [configMaps, configMap(namespace, index)] as const),
      ...Array.from({ length: Math.floor(plain / 2) }, (_, index) => [secrets, secret(namespace, index)] as const)
    ]
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
      `${deploymentCount * replicas} pods in ${namespace}`,
      countOf(pods, namespace).pipe(
        Effect.map((count) => (count >= deploymentCount * replicas ? Option.some(count) : Option.none()))
      ),
      "5 minutes"
    )
    return namespace
  })

interface Measurement {
  readonly objects: number
  readonly rawListPerSecond: number
  readonly backupFilesystemPerSecond: number
  readonly backupS3PerSecond: number
  readonly itemsBackedUp: number
  readonly baselineRssMiB: number
  readonly rawListPeakRssMiB: number
  readonly backupPeakRssMiB: number
  readonly processPeakRssMiB: number
}

const measure = (namespace: string, nodeOptions: ReadonlyArray<string>): Measurement => {
  const script = fileURLToPath(new URL("./measureBackup.ts", import.meta.url))
  const output = execFileSync(process.execPath, ["--expose-gc", ...nodeOptions, script, namespace], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  })
  const last = output.trim().split("\n").at(-1) ?? "{}"
  return JSON.parse(last) as Measurement
}

export const benchBackup = (sizes: ReadonlyArray<number>, nodeOptions: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const rows: Array<string> = []
    for (const size of sizes) {
      const namespace = yield* seed(size)
      yield* untilQuiet
      const m = measure(namespace, nodeOptions)
      rows.push(
        [
          String(m.objects).padStart(7),
          m.rawListPerSecond.toFixed(0).padStart(10),
          m.backupFilesystemPerSecond.toFixed(0).padStart(10),
          (m.backupFilesystemPerSecond / m.rawListPerSecond).toFixed(2).padStart(8),
          m.backupS3PerSecond.toFixed(0).padStart(10),
          (m.backupS3PerSecond / m.rawListPerSecond).toFixed(2).padStart(8),
          m.baselineRssMiB.toFixed(0).padStart(8),
          m.rawListPeakRssMiB.toFixed(0).padStart(8),
          m.backupPeakRssMiB.toFixed(0).padStart(10),
          m.processPeakRssMiB.toFixed(0).padStart(8)
        ].join("  ")
      )
    }
    if (nodeOptions.length > 0) console.log(`measuring process: node ${nodeOptions.join(" ")}`)
    console.log("RSS in MiB: the settled process after loading Ark, and the highest sampled during each phase")
    console.log(
      "objects  raw list/s  backup→fs/s  fs÷raw  backup→S3/s  S3÷raw  RSS base  RSS list  RSS backup  max RSS"
    )
    for (const row of rows) console.log(row)
    console.log("targets: backup ≥ 0.8 × raw list rate; peak RSS ≤ 256 MiB at 100k objects")
  }).pipe(
    Effect.provide(
      Layer.unwrapEffect(
        Config.string("KUBECONFIG").pipe(Effect.map((kubeconfigPath) => KubeLive.layer({ kubeconfigPath })))
      )
    )
  )
