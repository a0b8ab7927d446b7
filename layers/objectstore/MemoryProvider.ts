// An ObjectStoreProvider for tests: one in-memory store per bucket and prefix, whatever the
// provider, so two fake clusters given the same provider share a bucket (migration tests).
import { Context, Effect, Layer, Option, Stream } from "effect"

import type { ObjectStore } from "../../services/ObjectStore.ts"
import { ObjectStoreError } from "../../services/ObjectStore.ts"
import type { StorageLocation } from "../../services/ObjectStoreProvider.ts"
import { LocationError, ObjectStoreProvider } from "../../services/ObjectStoreProvider.ts"
import * as MemoryObjectStore from "./Memory.ts"
import { objectLockRefusal } from "./Provider.ts"

/** Test handle on the buckets behind the provider. */
export interface MemoryProviderControl {
  /** The store of a bucket and prefix, created empty on first use. */
  readonly store: (bucket: string, prefix?: string) => Effect.Effect<ObjectStore.Shape>
  /** Every call on this bucket fails with `message` until `reachable`, like a down endpoint. */
  readonly unreachable: (bucket: string, message: string) => Effect.Effect<void>
  readonly reachable: (bucket: string) => Effect.Effect<void>
  /** `forLocation` fails for this bucket, like an unreadable credential. */
  readonly rejectLocation: (bucket: string, message: string) => Effect.Effect<void>
}

export class MemoryObjectStores
  extends Context.Tag("ark/MemoryObjectStores")<MemoryObjectStores, MemoryProviderControl>()
{}

const storeKey = (bucket: string, prefix: string | undefined) => `${bucket}/${(prefix ?? "").replace(/^\/+|\/+$/g, "")}`

/** A store whose every call first checks whether its bucket is down. */
const guarded = (store: ObjectStore.Shape, down: () => string | undefined): ObjectStore.Shape => {
  const check = (operation: string, key: string) =>
    Effect.suspend(() => {
      const message = down()
      return message === undefined
        ? Effect.void
        : Effect.fail(new ObjectStoreError({ operation, key, message, retryable: true }))
    })
  return {
    put: (key, body, options) => check("put", key).pipe(Effect.zipRight(store.put(key, body, options))),
    get: (key) => Stream.unwrap(check("get", key).pipe(Effect.as(store.get(key)))),
    exists: (key) => check("exists", key).pipe(Effect.zipRight(store.exists(key))),
    list: (prefix, options) => check("list", prefix).pipe(Effect.zipRight(store.list(prefix, options))),
    retention: (key) => check("retention", key).pipe(Effect.zipRight(store.retention(key))),
    delete: (key) => check("delete", key).pipe(Effect.zipRight(store.delete(key))),
    signedUrl: (key, expiresIn) => check("signedUrl", key).pipe(Effect.zipRight(store.signedUrl(key, expiresIn)))
  }
}

export const make: Effect.Effect<
  { readonly provider: ObjectStoreProvider.Shape; readonly control: MemoryProviderControl }
> = Effect.sync(() => {
  const stores = new Map<string, ObjectStore.Shape>()
  const down = new Map<string, string>()
  const rejected = new Map<string, string>()

  const store = (bucket: string, prefix?: string) =>
    Effect.gen(function*() {
      const key = storeKey(bucket, prefix)
      const existing = stores.get(key)
      if (existing !== undefined) return existing
      const created = guarded(yield* MemoryObjectStore.make({ bucket }), () => down.get(bucket))
      stores.set(key, created)
      return created
    })

  const forLocation = (location: StorageLocation) =>
    Effect.suspend(() => {
      const { bucket, prefix } = location.spec.objectStorage
      // Memory stores retain files as S3 does; only the provider decides whether Object Lock may be asked.
      const reason = rejected.get(bucket) ?? Option.getOrUndefined(objectLockRefusal(location))
      return reason === undefined
        ? store(bucket, prefix)
        : Effect.fail(new LocationError({ location: location.metadata.name ?? "", message: reason }))
    })

  const control: MemoryProviderControl = {
    store,
    unreachable: (bucket, message) => Effect.sync(() => void down.set(bucket, message)),
    reachable: (bucket) => Effect.sync(() => void down.delete(bucket)),
    rejectLocation: (bucket, message) => Effect.sync(() => void rejected.set(bucket, message))
  }
  return { provider: { forLocation }, control }
})

export const layer: Layer.Layer<ObjectStoreProvider | MemoryObjectStores> = Layer.effectContext(
  make.pipe(
    Effect.map(({ control, provider }) =>
      Context.make(ObjectStoreProvider, provider).pipe(Context.add(MemoryObjectStores, control))
    )
  )
)
