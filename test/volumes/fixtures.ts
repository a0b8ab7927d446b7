// A fake cluster with VolumeSnapshotLocations, EBS-like PVs, pods with claims and hooks, in-memory
// block stores and a scripted hook runner, for the volume and hook tests.
import { Effect, Layer } from "effect"

import * as MemoryBlockStores from "../../layers/blockstore/MemoryProvider.ts"
import * as MemoryHooksLayer from "../../layers/hooks/Memory.ts"
import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryObjectStore from "../../layers/objectstore/Memory.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import { HookRunner } from "../../services/HookRunner.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { apiVersion, kinds } from "../../src/api/index.ts"
import { customResourceDefinition } from "../../src/api/manifests/crd.ts"
import type { BackupDeps } from "../../src/backup/run.ts"

export const serverNamespace = "heptio-ark"

export const volumesLayer = () =>
  Layer.mergeAll(MemoryKube.layer, MemoryObjectStore.layer(), MemoryBlockStores.layer(), MemoryHooksLayer.layer())

const crds = { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions" }

/** The VolumeSnapshotLocation CRD and the named locations. */
export const installLocations = (...names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.create(crds, customResourceDefinition(kinds.VolumeSnapshotLocation) as unknown as KubeObject)
    const control = yield* MemoryKube.MemoryKube
    yield* control.seed(names.map((name) => snapshotLocation(name)))
  })

export const snapshotLocation = (name: string, provider = "aws"): KubeObject => ({
  apiVersion,
  kind: "VolumeSnapshotLocation",
  metadata: { name, namespace: serverNamespace },
  spec: { provider, config: { region: "us-east-1" } }
})

/** A volume in a location's store. */
export const addVolume = (location: string, volumeId: string, extra: { readonly iops?: number } = {}) =>
  Effect.gen(function*() {
    const stores = yield* MemoryBlockStores.MemoryBlockStores
    const { control } = yield* stores.location(location)
    yield* control.addVolume({ volumeId, availabilityZone: "us-east-1a", volumeType: "gp3", sizeGiB: 10, ...extra })
  })

export const locationStore = (location: string) =>
  Effect.flatMap(MemoryBlockStores.MemoryBlockStores, (stores) => stores.location(location))

export const ebsPersistentVolume = (
  name: string,
  volumeId: string,
  claim?: { readonly namespace: string; readonly name: string }
): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name, labels: { "topology.kubernetes.io/zone": "us-east-1a" } },
  spec: {
    capacity: { storage: "10Gi" },
    accessModes: ["ReadWriteOnce"],
    awsElasticBlockStore: { volumeID: `aws://us-east-1a/${volumeId}`, fsType: "ext4" },
    ...(claim === undefined
      ? {}
      : { claimRef: { kind: "PersistentVolumeClaim", ...claim, uid: "old-claim-uid", resourceVersion: "42" } })
  }
})

export const hostPathVolume = (name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name },
  spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: `/data/${name}` } }
})

export const claim = (namespace: string, name: string, volumeName: string): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, volumeName }
})

export const podWithClaims = (
  namespace: string,
  name: string,
  claims: ReadonlyArray<string>,
  options: {
    readonly labels?: Record<string, string>
    readonly annotations?: Record<string, string>
    readonly containers?: ReadonlyArray<string>
  } = {}
): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace,
    labels: options.labels ?? {},
    ...(options.annotations === undefined ? {} : { annotations: options.annotations })
  },
  spec: {
    containers: (options.containers ?? ["main"]).map((container) => ({ name: container, image: "busybox" })),
    volumes: claims.map((claimName) => ({ name: claimName, persistentVolumeClaim: { claimName } }))
  }
})

/** Backup deps with the volume services of the test layer. */
export const volumeDeps = Effect.gen(function*() {
  const blockStores = yield* BlockStoreProvider
  const hooks = yield* HookRunner
  const result: BackupDeps = { storageLocations: ["default"], volumes: { blockStores, hooks } }
  return result
})

export const seed = (objects: ReadonlyArray<KubeObject>) =>
  Effect.flatMap(MemoryKube.MemoryKube, (control) => control.seed(objects))
