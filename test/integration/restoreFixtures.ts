// The real-cluster fixtures of the restore tests: a small app namespace seeded and settled (its
// Deployment's ReplicaSet and Running pods exist, so the backup holds controller-owned objects),
// Restores as the controller hands them over, and tarballs crafted byte by byte for the
// hostile-archive tests.
import { gzipSync } from "node:zlib"

import { Effect, Option, Schema, Stream } from "effect"
import * as tar from "tar-stream"

import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup } from "../../src/api/backup.ts"
import type { Restore } from "../../src/api/restore.ts"
import { RestoreSpec } from "../../src/api/restore.ts"
import { waitFor } from "../support/wait.ts"
import { gvr, listNow } from "./backupFixtures.ts"

/** A Restore as the controller hands it over: spec decoded, defaults applied. */
export const makeRestore = (name: string, backupName: string, spec: Record<string, unknown> = {}): Restore => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Restore",
  metadata: { name, namespace: "heptio-ark", uid: `uid-${name}` },
  spec: Schema.decodeUnknownSync(RestoreSpec)({ backupName, ...spec })
})

const statusField = (object: KubeObject, field: string): unknown =>
  (object["status"] as Record<string, unknown> | undefined)?.[field]

export const isRunning = (pod: KubeObject) => statusField(pod, "phase") === "Running"

export const controllerUid = (object: KubeObject): string | undefined =>
  object.metadata.ownerReferences?.find((owner) => owner.controller === true)?.uid

/** What the app namespace holds; names are fixed, the namespace is the run's. */
export const app = {
  configMaps: ["settings", "flags"],
  secret: "creds",
  service: "web",
  headless: "web-headless",
  deployment: "web",
  replicas: 2
} as const

const fixtureLabels = { "ark-it/fixture": "restore" }

export interface Settled {
  readonly deployment: KubeObject
  readonly replicaSets: ReadonlyArray<KubeObject>
  readonly pods: ReadonlyArray<KubeObject>
}

/**
 * The Deployment `name` in `namespace` has exactly one ReplicaSet, owned by it, and exactly
 * `replicas` pods, all Running and owned by that ReplicaSet, and reports them available.
 */
export const deploymentSettled = (namespace: string, name: string, replicas: number) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const deployment = yield* kube.get(gvr.deployments, name, namespace)
    const replicaSets = yield* listNow(gvr.replicaSets, namespace)
    const pods = yield* listNow(gvr.pods, namespace)
    const settled = statusField(deployment, "availableReplicas") === replicas &&
      replicaSets.length === 1 &&
      replicaSets.every((replicaSet) => controllerUid(replicaSet) === deployment.metadata.uid) &&
      pods.length === replicas &&
      pods.every((pod) => isRunning(pod) && controllerUid(pod) === replicaSets[0]?.metadata.uid)
    return settled ? Option.some<Settled>({ deployment, replicaSets, pods }) : Option.none()
  })

/** Waits until {@link deploymentSettled}; a timeout dies with what was last seen. */
export const waitDeploymentSettled = (namespace: string, name: string, replicas: number) =>
  waitFor(
    `Deployment ${namespace}/${name}: one ReplicaSet and ${replicas} Running pods`,
    deploymentSettled(namespace, name, replicas),
    "120 seconds"
  ).pipe(
    Effect.catchTag("DeadlineExceeded", (error) =>
      Effect.gen(function*() {
        const replicaSets = yield* listNow(gvr.replicaSets, namespace)
        const pods = yield* listNow(gvr.pods, namespace)
        const seen = [...replicaSets, ...pods].map((object) =>
          `${object.kind} ${object.metadata.name}: ${JSON.stringify(object["status"])}`
        )
        return yield* Effect.dieMessage(`${error.message}\n${seen.join("\n")}`)
      }))
  )

/**
 * Seeds the app namespace — two ConfigMaps, a Secret, a ClusterIP and a headless Service, a
 * Deployment — and waits until the Deployment has settled, so the backup holds its ReplicaSet and pods.
 */
export const seedApp = (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const meta = (name: string) => ({ name, namespace, labels: fixtureLabels })
    yield* kube.create(gvr.namespaces, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace, labels: fixtureLabels }
    })
    for (const name of app.configMaps) {
      yield* kube.create(gvr.configMaps, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(name),
        data: { name, mode: "prod" }
      })
    }
    yield* kube.create(gvr.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta(app.secret),
      type: "Opaque",
      stringData: { token: "s3cr3t" }
    })
    yield* kube.create(gvr.services, {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(app.service),
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] }
    })
    yield* kube.create(gvr.services, {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(app.headless),
      spec: { clusterIP: "None", selector: { app: "web" }, ports: [{ port: 80 }] }
    })
    yield* kube.create(gvr.deployments, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(app.deployment),
      spec: {
        replicas: app.replicas,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "main", image: "nginx:1.27" }] }
        }
      }
    })
    return yield* waitDeploymentSettled(namespace, app.deployment, app.replicas)
  })

/** Deletes the namespace and waits until the API server no longer has it. */
export const deleteNamespaceAndWait = (namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.delete(gvr.namespaces, namespace).pipe(Effect.catchTag("KubeNotFound", () => Effect.void))
    yield* waitFor(
      `namespace ${namespace} gone`,
      kube.get(gvr.namespaces, namespace).pipe(
        Effect.as(Option.none<true>()),
        Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.some(true as const)))
      ),
      "120 seconds"
    )
  })

/** Whether `name` exists; other errors fail. */
export const exists = (resource: GroupVersionResource, name: string, namespace?: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    return yield* kube.get(resource, name, namespace).pipe(
      Effect.as(true),
      Effect.catchTag("KubeNotFound", () => Effect.succeed(false))
    )
  })

// ---------------------------------------------------------------------------------------------
// Crafted archives

export interface CraftedEntry {
  readonly name: string
  readonly content: string
}

/** A tar of these entries, exactly as named (no normalization), with its end-of-archive marker. */
export const tarOf = (entries: ReadonlyArray<CraftedEntry>) =>
  Effect.async<Buffer>((resume) => {
    const pack = tar.pack()
    const chunks: Array<Buffer> = []
    pack.on("data", (chunk: unknown) => {
      if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk))
    })
    pack.on("end", () => resume(Effect.succeed(Buffer.concat(chunks))))
    for (const entry of entries) pack.entry({ name: entry.name }, entry.content)
    pack.finalize()
  })

export const tarGzOf = (entries: ReadonlyArray<CraftedEntry>) =>
  tarOf(entries).pipe(Effect.map((bytes) => gzipSync(bytes)))

/** The valid tar.gz of these entries cut at `fraction` of its length: a gzip stream that ends too soon. */
export const truncatedTarGz = (entries: ReadonlyArray<CraftedEntry>, fraction: number) =>
  tarGzOf(entries).pipe(Effect.map((bytes) => bytes.subarray(0, Math.floor(bytes.length * fraction))))

/** A valid gzip header (deflate, no flags) followed by `length` bytes of deterministic noise. */
export const corruptGzip = (length: number): Buffer => {
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03])
  const noise = Buffer.alloc(length)
  let state = 0x2545f491
  for (let i = 0; i < length; i++) {
    // xorshift32: the same noise every run, so a failure can be reproduced.
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    noise[i] = state & 0xff
  }
  return Buffer.concat([header, noise])
}

/** Stores raw bytes under `key` of the store's prefix. */
export const putBytes = (key: string, bytes: Uint8Array) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    yield* store.put(key, Stream.make(bytes))
  })

/** A Completed Backup of `namespace` as `ark-backup.json` would hold it, for a tarball crafted by hand. */
export const completedBackup = (backup: Backup): Backup => ({
  ...backup,
  status: {
    phase: "Completed",
    formatVersion: "1.0.0",
    expiration: "2099-01-01T00:00:00Z",
    startTimestamp: "2024-01-01T00:00:00Z",
    completionTimestamp: "2024-01-01T00:00:01Z"
  }
})
