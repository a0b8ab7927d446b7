// Fake buckets with backups "another cluster" committed, and a provider wrapper that injects the
// storage faults sync must survive: a failed listing of one prefix, a failed existence check.
import { Context, Effect, Layer, Stream } from "effect"

import * as MemoryKube from "../../layers/kube/Memory.ts"
import * as MemoryProvider from "../../layers/objectstore/MemoryProvider.ts"
import { MemoryObjectStores } from "../../layers/objectstore/MemoryProvider.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { KubeClient } from "../../services/KubeClient.ts"
import type { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreError } from "../../services/ObjectStore.ts"
import { ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import type { StorageIdentity } from "../../src/api/index.ts"
import { apiVersion } from "../../src/api/index.ts"
import { locationMarkerKey } from "../../src/locations/marker.ts"
import { getLocation } from "../../src/locations/resolve.ts"
import { encodeStorageIdentity, storageIdentityAnnotation } from "../../src/sync/markers.ts"
import { backups, location, locations, serverNamespace } from "../server/fixtures.ts"

export interface StoreFaultsControl {
  /** Every `list` of exactly this prefix fails until `heal`. */
  readonly failList: (prefix: string) => Effect.Effect<void>
  /** Every `exists` of this key fails until `heal`. */
  readonly failExists: (key: string) => Effect.Effect<void>
  readonly heal: Effect.Effect<void>
  /** `list` calls so far, on every store: how a test sees that a pass ran. */
  readonly listCalls: Effect.Effect<number>
}

export class StoreFaults extends Context.Tag("test/StoreFaults")<StoreFaults, StoreFaultsControl>() {}

const faultyProvider = Layer.effectContext(Effect.gen(function*() {
  const inner = yield* ObjectStoreProvider
  const stores = yield* MemoryObjectStores
  const failingLists = new Set<string>()
  const failingExists = new Set<string>()
  let listCalls = 0
  const fault = (operation: string, key: string) =>
    Effect.fail(new ObjectStoreError({ operation, key, message: `injected ${operation} failure`, retryable: true }))
  const wrap = (store: ObjectStore.Shape): ObjectStore.Shape => ({
    ...store,
    list: (prefix, options) =>
      Effect.suspend(() => {
        listCalls += 1
        return failingLists.has(prefix) ? fault("list", prefix) : store.list(prefix, options)
      }),
    exists: (key) => Effect.suspend(() => failingExists.has(key) ? fault("exists", key) : store.exists(key))
  })
  const provider: ObjectStoreProvider.Shape = {
    forLocation: (storageLocation) => inner.forLocation(storageLocation).pipe(Effect.map((store) => wrap(store)))
  }
  const control: StoreFaultsControl = {
    failList: (prefix) => Effect.sync(() => void failingLists.add(prefix)),
    failExists: (key) => Effect.sync(() => void failingExists.add(key)),
    heal: Effect.sync(() => {
      failingLists.clear()
      failingExists.clear()
    }),
    listCalls: Effect.sync(() => listCalls)
  }
  return Context.make(ObjectStoreProvider, provider).pipe(
    Context.add(StoreFaults, control),
    Context.add(MemoryObjectStores, stores)
  )
})).pipe(Layer.provide(MemoryProvider.layer))

/** A fresh fake API server and fake buckets, with storage faults on demand. */
export const syncLayer = Layer.merge(MemoryKube.layer, faultyProvider)

/** The bucket and prefix of the `default` location these tests use. */
export const bucket = "ark"
export const prefix = "cluster-a"

/** A Backup as another cluster committed it: its own uid, revision and bookkeeping included. */
export const storedBackup = (
  name: string,
  overrides: { readonly phase?: string; readonly storageLocation?: string } = {}
) => ({
  apiVersion,
  kind: "Backup",
  metadata: {
    name,
    namespace: "ark-elsewhere",
    uid: "0b9f3c0e-1111-4222-8333-444455556666",
    resourceVersion: "48213",
    generation: 1,
    creationTimestamp: "2024-05-01T11:59:00Z",
    managedFields: [{ manager: "ark", operation: "Update" }],
    ownerReferences: [{
      apiVersion,
      kind: "Schedule",
      name: "nightly",
      uid: "7d0c7a51-0000-4000-8000-000000000001",
      controller: true
    }],
    finalizers: ["ark.heptio.com/elsewhere"],
    labels: { "ark.heptio.com/schedule-name": "nightly" },
    annotations: { "example.com/owner": "team-a" }
  },
  spec: {
    includedNamespaces: ["shop"],
    includedResources: ["*"],
    snapshotVolumes: false,
    ttl: "24h",
    storageLocation: overrides.storageLocation ?? "default"
  },
  status: {
    phase: overrides.phase ?? "Completed",
    startTimestamp: "2024-05-01T12:00:00Z",
    completionTimestamp: "2024-05-01T12:00:05Z",
    expiration: "2024-05-02T12:00:05Z",
    progress: { totalItems: 12, itemsBackedUp: 12 },
    warnings: 0,
    errors: 0,
    resourceVersion: "48200",
    consistency: "Exact",
    formatVersion: "1.0.0"
  }
})

export const putText = (
  key: string,
  text: string,
  where: { readonly bucket?: string; readonly prefix?: string } = {}
) =>
  Effect.gen(function*() {
    const stores = yield* MemoryObjectStores
    const store = yield* stores.store(where.bucket ?? bucket, where.prefix ?? prefix)
    yield* store.put(key, Stream.make(new TextEncoder().encode(text)))
  })

/** A backup's files; with `committed` its ark-backup.json too. */
export const putBackup = (
  name: string,
  options: {
    readonly committed?: boolean
    readonly body?: unknown
    readonly bucket?: string
    readonly prefix?: string
  } = {}
) =>
  Effect.gen(function*() {
    yield* putText(`backups/${name}/${name}.tar.gz`, "tarball", options)
    yield* putText(`backups/${name}/${name}-logs.gz`, "logs", options)
    if (options.committed ?? true) {
      const body = options.body ?? storedBackup(name)
      yield* putText(`backups/${name}/ark-backup.json`, typeof body === "string" ? body : JSON.stringify(body), options)
    }
  })

export const deleteKey = (key: string) =>
  Effect.gen(function*() {
    const stores = yield* MemoryObjectStores
    yield* (yield* stores.store(bucket, prefix)).delete(key)
  })

/** The marker id of the `default` location's prefix, once `putMarker` wrote it. */
export const marker = "marker-a"

/** Where the `default` location points, marker included. */
export const here: StorageIdentity = { bucket, prefix, marker }

/** The prefix's ark-location.json, as location validation writes it. */
export const putMarker = (id = marker, where: { readonly bucket?: string; readonly prefix?: string } = {}) =>
  putText(locationMarkerKey, JSON.stringify({ id }), where)

/**
 * A Backup resource of this cluster in `phase` (none: as created), stored in `storageLocation` and
 * recorded as stored at `identity` (by default where the `default` location points; null: a Backup
 * from before storage identities).
 */
export const clusterBackup = (
  name: string,
  phase: string | undefined,
  storageLocation = "default",
  identity: StorageIdentity | null = storageLocation === "default" ? here : null
) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const created = yield* kube.create(
      backups,
      {
        apiVersion,
        kind: "Backup",
        metadata: {
          name,
          namespace: serverNamespace,
          ...(identity === null
            ? {}
            : { annotations: { [storageIdentityAnnotation]: encodeStorageIdentity(identity) } })
        },
        spec: { storageLocation }
      } satisfies KubeObject
    )
    if (phase === undefined) return created
    return yield* kube.updateStatus(backups, { ...created, status: { phase } })
  })

export const createLocation = (name: string, spec: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    return yield* kube.create(locations, location(name, { objectStorage: { bucket, prefix }, ...spec }))
  })

/** The location as the controller would read it. */
export const readLocation = (name = "default") => getLocation(serverNamespace, name).pipe(Effect.orDie)

export const backupNames = Effect.gen(function*() {
  const kube = yield* KubeClient
  const pages = yield* Stream.runCollect(kube.listPages(backups, { namespace: serverNamespace }))
  return [...pages].flatMap((page) => page.items.map((object) => object.metadata.name ?? "")).sort()
})
