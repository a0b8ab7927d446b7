// The real-component fixtures of the volume and hook tests: a layer with the live block store
// provider and exec hook runner, a server namespace of the run's own holding its
// VolumeSnapshotLocations, PVs bound to claims, and readers of what a snapshot left behind.
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import { join, relative } from "node:path"

import { Config, Effect, Layer, Option } from "effect"

import * as BlockStoreProviderLive from "../../layers/blockstore/Provider.ts"
import * as ExecHooks from "../../layers/hooks/Exec.ts"
import { BlockStoreProvider } from "../../services/BlockStoreProvider.ts"
import { HookRunner } from "../../services/HookRunner.ts"
import type { GroupVersionResource, KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { Backup } from "../../src/api/backup.ts"
import type { Restore } from "../../src/api/restore.ts"
import type { BackupDeps } from "../../src/backup/run.ts"
import { volumeSnapshotLocationsGvr } from "../../src/volumes/locations.ts"
import { waitFor } from "../support/wait.ts"
import { gvr, makeBackup, minio } from "./backupFixtures.ts"
import { applyCrds, ensureNamespace } from "./crdsApply.ts"
import { liveKube } from "./live.ts"
import { makeRestore } from "./restoreFixtures.ts"

const execHooks = Layer.unwrapEffect(
  Config.string("KUBECONFIG").pipe(
    Effect.orDieWith((error) => new Error(`volume tests need the test environment's KUBECONFIG: ${error}`)),
    Effect.map((kubeconfigPath) => ExecHooks.layer({ kubeconfigPath }).pipe(Layer.orDie))
  )
)

/** Kube, MinIO under `prefix`, the live BlockStoreProvider and the exec HookRunner, all on cluster 1. */
export const volumeLayer = (prefix: string) =>
  Layer.mergeAll(BlockStoreProviderLive.layer, execHooks, minio(prefix)).pipe(Layer.provideMerge(liveKube()))

/** What the server hands runBackup: the live block stores and hook runner. */
export const volumeDeps = Effect.gen(function*() {
  const blockStores = yield* BlockStoreProvider
  const hooks = yield* HookRunner
  const deps: BackupDeps = { storageLocations: ["default"], volumes: { blockStores, hooks } }
  return deps
})

/** The Ark CRDs served and the run's own server namespace, deleted afterwards. */
export const serverNamespace = (name: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* applyCrds
    yield* Effect.acquireRelease(ensureNamespace(name), () => kube.delete(gvr.namespaces, name).pipe(Effect.ignore))
    return name
  })

/** A VolumeSnapshotLocation in the server namespace. */
export const createSnapshotLocation = (
  namespace: string,
  name: string,
  provider: string,
  config: Record<string, string>
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    return yield* kube.create(volumeSnapshotLocationsGvr, {
      apiVersion: "ark.heptio.com/v1",
      kind: "VolumeSnapshotLocation",
      metadata: { name, namespace },
      spec: { provider, config }
    })
  })

/** A Backup in the run's server namespace, where its snapshot locations live. */
export const backupIn = (serverNs: string, name: string, spec: Record<string, unknown>): Backup => {
  const backup = makeBackup(name, spec)
  return { ...backup, metadata: { ...backup.metadata, namespace: serverNs } }
}

export const restoreIn = (
  serverNs: string,
  name: string,
  backupName: string,
  spec: Record<string, unknown> = {}
): Restore => {
  const restore = makeRestore(name, backupName, spec)
  return { ...restore, metadata: { ...restore.metadata, namespace: serverNs } }
}

const statusPhase = (object: KubeObject): unknown =>
  (object["status"] as Record<string, unknown> | undefined)?.["phase"]

/**
 * A namespace with the PV `pvName` (of `source`, e.g. `{hostPath: {...}}`) bound to the claim
 * `claim`; waits until both are Bound. The claim's selector keeps the binder off other runs' PVs.
 */
export const boundClaim = (namespace: string, pvName: string, claim: string, source: Record<string, unknown>) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.create(gvr.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } })
    yield* kube.create(gvr.persistentVolumes, {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: pvName, labels: { "ark-it/volume": pvName } },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "",
        ...source
      }
    })
    yield* kube.create(gvr.persistentVolumeClaims, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: claim, namespace },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "",
        resources: { requests: { storage: "1Gi" } },
        selector: { matchLabels: { "ark-it/volume": pvName } }
      }
    })
    return yield* waitClaimBound(namespace, claim, pvName)
  })

/** Waits until the claim is Bound to `pvName`. */
export const waitClaimBound = (namespace: string, claim: string, pvName: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    return yield* waitFor(
      `PVC ${namespace}/${claim} Bound to ${pvName}`,
      kube.get(gvr.persistentVolumeClaims, claim, namespace).pipe(Effect.map((pvc) =>
        statusPhase(pvc) === "Bound" && (pvc["spec"] as { volumeName?: string }).volumeName === pvName
          ? Option.some(pvc)
          : Option.none()
      )),
      // The binder resyncs every 15 s; a busy machine has made it much longer.
      "150 seconds"
    )
  })

/** Deletes the object (if there) and waits until the API server no longer has it. */
export const deleteAndWait = (resource: GroupVersionResource, name: string, namespace?: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    yield* kube.delete(resource, name, namespace).pipe(Effect.catchTag("KubeNotFound", () => Effect.void))
    yield* waitFor(
      `${resource.resource} ${name} gone`,
      kube.get(resource, name, namespace).pipe(
        Effect.as(Option.none<true>()),
        Effect.catchTag("KubeNotFound", () => Effect.succeed(Option.some(true as const)))
      ),
      "120 seconds"
    )
  })

/** SHA-256 of every file under `dir`, by relative path. */
export const digests = (dir: string) =>
  Effect.promise(async () => {
    const result: Record<string, string> = {}
    for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue
      const full = join(entry.parentPath, entry.name)
      result[relative(dir, full)] = createHash("sha256").update(await fs.readFile(full)).digest("hex")
    }
    return result
  })

/** Whether a file exists. */
export const fileExists = (file: string) => Effect.promise(() => fs.stat(file).then(() => true, () => false))

/** A temporary directory, removed afterwards. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.promise(() => fs.mkdtemp(prefix)),
    (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
  )
