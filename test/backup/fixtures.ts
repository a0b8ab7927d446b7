// Objects, Backups and readers shared by the backup tests.
import { Chunk, Effect, Layer, Schema, Stream } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryObjectStore from "../../layers/objectstore/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup } from "../../src/api/backup.ts"
import { BackupSpec } from "../../src/api/backup.ts"
import { gunzip } from "../../src/archive/gzip.ts"
import { backupKeys } from "../../src/archive/layout.ts"
import { readArchive } from "../../src/archive/reader.ts"

export const testLayer = () => Layer.merge(MemoryKube.layer, MemoryObjectStore.layer())

export const makeBackup = (spec: Record<string, unknown>, name = "b1"): Backup => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Backup",
  metadata: { name, namespace: "heptio-ark", uid: `uid-${name}` },
  spec: Schema.decodeUnknownSync(BackupSpec)(spec)
})

export const deps = { storageLocations: ["default"] }

export const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels }
})

export const configMap = (
  ns: string,
  name: string,
  labels: Record<string, string> = {},
  data: Record<string, string> = {}
): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, labels },
  data
})

export const secret = (ns: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: ns, labels },
  type: "Opaque",
  data: { key: "dmFsdWU=" }
})

export const pod = (ns: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns, labels },
  spec: { containers: [{ name: "main", image: "nginx" }] }
})

export const deployment = (ns: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns, labels },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "nginx" }] } }
  }
})

export const persistentVolume = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name, labels },
  spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: `/data/${name}` } }
})

export const persistentVolumeClaim = (
  ns: string,
  name: string,
  volumeName: string | undefined,
  labels: Record<string, string> = {}
): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace: ns, labels },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "1Gi" } },
    ...(volumeName === undefined ? {} : { volumeName })
  }
})

export const clusterRole = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name, labels },
  rules: []
})

export const widgetCrd = (scope: "Namespaced" | "Cluster" = "Namespaced"): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope,
    names: { plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wdg"] },
    versions: [{ name: "v1", served: true, storage: true }]
  }
})

export const widget = (ns: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "example.com/v1",
  kind: "Widget",
  metadata: { name, namespace: ns, labels },
  spec: { size: name.length }
})

const decoder = new TextDecoder()

/** The tarball's entries: path → parsed JSON, plus the order they came in. */
export const readTarball = (name: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const entries = yield* Stream.runCollect(readArchive(store.get(backupKeys(name).tarball)))
    const paths = Chunk.toReadonlyArray(entries).map((entry) => entry.path)
    const objects = new Map<string, unknown>()
    for (const entry of entries) {
      const text = decoder.decode(entry.data)
      objects.set(entry.path, entry.path === "metadata/version" ? text : JSON.parse(text))
    }
    return { paths, objects }
  })

/** A gzipped file of the backup, as text. */
export const readGzipText = (key: string) =>
  Effect.gen(function*() {
    const store = yield* ObjectStore
    const chunks = yield* Stream.runCollect(gunzip(store.get(key)))
    return decoder.decode(Buffer.concat(Chunk.toReadonlyArray(chunks)))
  })

export const storedKeys = Effect.gen(function*() {
  const store = yield* ObjectStore
  const listing = yield* store.list("")
  return listing.objects.map((object) => object.key).sort()
})
