// Two fake clusters and one object store: back up the source, restore into the target.
import { Chunk, Effect, Option, Schema, Stream } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryObjectStore from "../../layers/objectstore/Memory.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import type { Backup } from "../../src/api/backup.ts"
import type { Restore } from "../../src/api/restore.ts"
import { RestoreSpec } from "../../src/api/restore.ts"
import { groupResource } from "../../src/archive/layout.ts"
import { runBackup } from "../../src/backup/run.ts"
import type { RestoreDeps } from "../../src/restore/run.ts"
import { dryRunRestore, executeRestore } from "../../src/restore/run.ts"
import { deps, makeBackup } from "../backup/fixtures.ts"

export type Cluster = Effect.Effect.Success<typeof MemoryKube.make>

export interface World {
  readonly source: Cluster
  readonly target: Cluster
  readonly store: ObjectStore.Shape
}

export const makeWorld = Effect.gen(function*() {
  const source = yield* MemoryKube.make
  const target = yield* MemoryKube.make
  const store = yield* MemoryObjectStore.make()
  const world: World = { source, target, store }
  return world
})

export const makeRestore = (spec: Record<string, unknown>, name = "r1"): Restore => ({
  apiVersion: "ark.heptio.com/v1",
  kind: "Restore",
  metadata: { name, namespace: "heptio-ark" },
  spec: Schema.decodeUnknownSync(RestoreSpec)({ backupName: "b1", ...spec })
})

/** Backs up the source cluster. */
export const backupSource = (world: World, spec: Record<string, unknown> = {}, name = "b1") =>
  runBackup(makeBackup(spec, name), deps).pipe(
    Effect.provideService(KubeClient, world.source.client),
    Effect.provideService(ObjectStore, world.store)
  )

export const restoreInto = (
  cluster: Cluster,
  world: World,
  restore: Restore,
  backup: Backup,
  restoreDeps: RestoreDeps = {}
) =>
  executeRestore(restore, Option.some(backup), restoreDeps).pipe(
    Effect.provideService(KubeClient, cluster.client),
    Effect.provideService(ObjectStore, world.store)
  )

export const dryRunInto = (cluster: Cluster, world: World, restore: Restore, backup: Backup) =>
  dryRunRestore(restore, backup).pipe(
    Effect.provideService(KubeClient, cluster.client),
    Effect.provideService(ObjectStore, world.store)
  )

export const objectKey = (resource: string, namespace: string | undefined, name: string) =>
  `${resource} ${namespace ?? ""}/${name}`

/** Every object in a cluster, keyed `group-resource ns/name`. */
export const dump = (cluster: Cluster) =>
  Effect.gen(function*() {
    const discovery = yield* cluster.client.discover
    const objects = new Map<string, KubeObject>()
    for (const resource of discovery.resources) {
      if (!resource.verbs.includes("list")) continue
      const pages = yield* Stream.runCollect(cluster.client.listPages(resource))
      for (const page of Chunk.toReadonlyArray(pages)) {
        for (const object of page.items) {
          objects.set(
            objectKey(
              groupResource(resource),
              resource.namespaced ? object.metadata.namespace : undefined,
              object.metadata.name ?? ""
            ),
            object
          )
        }
      }
    }
    return objects
  })

/** Seeds objects one by one; `owner` links an object to an earlier one as its controller. */
export const seedOwned = (cluster: Cluster, object: KubeObject, owner?: KubeObject) =>
  Effect.gen(function*() {
    const withOwner: KubeObject = owner === undefined ? object : {
      ...object,
      metadata: {
        ...object.metadata,
        ownerReferences: [{
          apiVersion: owner.apiVersion,
          kind: owner.kind,
          name: owner.metadata.name ?? "",
          uid: owner.metadata.uid ?? "",
          controller: true
        }]
      }
    }
    const [created] = yield* cluster.control.seed([withOwner])
    return created!
  })

export const replicaSet = (ns: string, name: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name, namespace: ns, labels: { app: name } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image: "nginx" }] } }
  }
})

export const service = (ns: string, name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns },
  spec: {
    type: "ClusterIP",
    clusterIP: "10.96.0.10",
    clusterIPs: ["10.96.0.10"],
    ports: [{ name: "http", port: 80 }],
    ...spec
  }
})
